//! What the figure examples share: reading their few arguments and drawing panels of lines or
//! points to an SVG file with plotters. Not part of the library.
#![allow(dead_code)] // each example uses its own subset

use std::error::Error;
use std::path::{Path, PathBuf};

use modality_gap::{Image, Text, UnitEmbeddings, npy};

pub mod help;
use plotters::prelude::*;

/// The command line: `--name value` options and positional arguments (file paths).
pub struct Args {
    options: Vec<(String, String)>,
    pub paths: Vec<PathBuf>,
}

impl Args {
    /// `std::env::args()`, without the program name; `--help` prints `help_text` and exits.
    pub fn parse(help_text: &str) -> Self {
        help::on_request(help_text);
        let mut options = Vec::new();
        let mut paths = Vec::new();
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.strip_prefix("--") {
                Some(name) => {
                    let value = args
                        .next()
                        .unwrap_or_else(|| usage(&format!("--{name} needs a value")));
                    options.push((name.to_owned(), value));
                }
                None => paths.push(PathBuf::from(arg)),
            }
        }
        Self { options, paths }
    }

    /// The value of `--name`, parsed, or `default`.
    pub fn get<T: std::str::FromStr>(&self, name: &str, default: T) -> T {
        match self.options.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) => v
                .parse()
                .unwrap_or_else(|_| usage(&format!("bad value for --{name}: {v}"))),
            None => default,
        }
    }

    /// Where to write the figure: `--svg PATH`, or `target/figures/NAME.svg`.
    pub fn svg(&self, name: &str) -> PathBuf {
        self.options
            .iter()
            .rev()
            .find(|(n, _)| n == "svg")
            .map(|(_, v)| PathBuf::from(v))
            .unwrap_or_else(|| PathBuf::from(format!("target/figures/{name}.svg")))
    }
}

/// The real CLIP image–text features published with the paper (500 MSCOCO pairs, d = 512).
static CLIP: &[u8] = include_bytes!("../../data/features_clip.npy");

/// A named pair of unit embedding sets, the non-text modality first.
pub struct Pair {
    pub name: String,
    pub images: UnitEmbeddings<f64, Image>,
    pub texts: UnitEmbeddings<f64, Text>,
}

/// The pair in the file at `path` (`[2, n, d]`, the non-text modality first), or the
/// embedded CLIP features.
pub fn load_pair(path: Option<&Path>) -> modality_gap::Result<Pair> {
    let (name, (images, texts)) = match path {
        Some(path) => {
            let stem = path.file_stem().unwrap_or(path.as_os_str());
            (stem.to_string_lossy().into_owned(), npy::read_pair(path)?)
        }
        None => ("CLIP (embedded)".to_owned(), npy::read_pair_from(CLIP)?),
    };
    Ok(Pair {
        name,
        images: UnitEmbeddings::normalize(images)?,
        texts: UnitEmbeddings::normalize(texts)?,
    })
}

fn usage(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(2)
}

/// The peers' shifts δ, `np.arange(-5, 5, 0.25)`: −5, −4.75, …, 4.75.
pub fn peer_deltas() -> Vec<f64> {
    (-20..20).map(|k| f64::from(k) * 0.25).collect()
}

/// How a series is drawn.
#[derive(Clone, Copy, PartialEq)]
pub enum Mark {
    Line,
    Dashed,
    Points,
}

/// One named series of (x, y) points.
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub mark: Mark,
}

impl Series {
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>, mark: Mark) -> Self {
        Self {
            name: name.into(),
            points,
            mark,
        }
    }
}

/// One chart of a figure.
pub struct Panel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
}

impl Panel {
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> Self {
        Self {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            series: Vec::new(),
        }
    }

    pub fn with(mut self, series: Series) -> Self {
        self.series.push(series);
        self
    }
}

const COLOURS: [RGBColor; 8] = [
    RGBColor(0xd6, 0x27, 0x28), // red: images
    RGBColor(0x1f, 0x77, 0xb4), // blue: texts
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0x17, 0xbe, 0xcf),
    RGBColor(0x7f, 0x7f, 0x7f),
];

/// Draws the panels side by side, 420 × 360 pixels each, to an SVG file (its folder is
/// created), and says where.
pub fn draw(path: &Path, panels: &[Panel]) -> Result<(), Box<dyn Error>> {
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder)?;
    }
    let width = 420 * panels.len() as u32;
    let root = SVGBackend::new(path, (width, 360)).into_drawing_area();
    root.fill(&WHITE)?;
    for (area, panel) in root.split_evenly((1, panels.len())).iter().zip(panels) {
        draw_panel(area, panel)?;
    }
    root.present()?;
    println!("figure: {}", path.display());
    Ok(())
}

fn draw_panel(
    area: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    panel: &Panel,
) -> Result<(), Box<dyn Error>> {
    let (x, y) = bounds(panel);
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(x.0..x.1, y.0..y.1)?;
    chart
        .configure_mesh()
        .x_desc(&panel.x_label)
        .y_desc(&panel.y_label)
        .light_line_style(WHITE)
        .draw()?;
    for (k, series) in panel.series.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let points = series.points.iter().copied();
        let drawn = match series.mark {
            Mark::Line => chart.draw_series(LineSeries::new(points, colour.stroke_width(2)))?,
            Mark::Dashed => {
                chart.draw_series(DashedLineSeries::new(points, 6, 4, colour.stroke_width(2)))?
            }
            Mark::Points => {
                chart.draw_series(points.map(|p| Circle::new(p, 2, colour.mix(0.5).filled())))?
            }
        };
        drawn
            .label(&series.name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], colour.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 12))
        .draw()?;
    Ok(())
}

/// The data range of a panel, padded by 5 % on each side.
fn bounds(panel: &Panel) -> ((f64, f64), (f64, f64)) {
    let points = || panel.series.iter().flat_map(|s| s.points.iter());
    let range = |f: fn(&(f64, f64)) -> f64| {
        let (lo, hi) = points()
            .map(f)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
        let pad = ((hi - lo) * 0.05).max(1e-9);
        (lo - pad, hi + pad)
    };
    (range(|p| p.0), range(|p| p.1))
}
