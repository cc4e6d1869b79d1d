# Sourced by the peer scripts (side_by_side.sh, geometry_baseline.sh).
# make_venv DIR SYSTEM_SITE: a Python venv at DIR unless one is there, seeing the system's
# packages when SYSTEM_SITE is 1 (reuses an installed torch instead of downloading one).
make_venv() {
    [ -x "$1/bin/python" ] && return 0
    if [ "$2" = 1 ]; then
        python3 -m venv --system-site-packages "$1"
    else
        python3 -m venv "$1"
    fi
}
