//! The standalone resolver the prospects benchmark times (scripts/bench-prospects.sh): the same
//! `prospects::file::resolve_file` as `server prospects resolve --input … --out …`, in a binary
//! that builds in release without the web app.
//!
//! usage: prospects_resolve --input people.csv --out clusters.csv [--region US]

use std::path::PathBuf;

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut input, mut out, mut region) = (None, None, "US".to_string());
    while let Some(a) = args.next() {
        match a.as_str() {
            "--input" => input = args.next().map(PathBuf::from),
            "--out" => out = args.next().map(PathBuf::from),
            "--region" => region = args.next().unwrap_or_default(),
            _ => {
                eprintln!("usage: prospects_resolve --input people.csv --out clusters.csv [--region US]");
                std::process::exit(2);
            }
        }
    }
    let (Some(input), Some(out)) = (input, out) else {
        eprintln!("usage: prospects_resolve --input people.csv --out clusters.csv [--region US]");
        std::process::exit(2);
    };
    let Some(region) = backend::prospects::Region::parse(&region) else {
        eprintln!("--region {region}: not an ISO country code (e.g. US, GB, DE)");
        std::process::exit(2);
    };
    match backend::prospects::file::resolve_file(&input, &out, region) {
        Ok(summary) => println!("{}", serde_json::to_string_pretty(&summary).unwrap_or_default()),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
