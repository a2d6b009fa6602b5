//! `--screen`: how the detector's first stage ([`watermark::screen`]) does
//! on the benchmark's images, measured with the full search always run.

use std::io::Write;
use std::path::Path;

pub use hallmark::watermark::screen::Score;
use hallmark::watermark::screen::{PILOT_THRESHOLD, THRESHOLD};

use super::Row;

fn pct(k: usize, n: usize) -> f64 {
    100.0 * k as f64 / n.max(1) as f64
}

/// Print the screen's miss rate on marked, attacked images and its pass
/// rate on unmarked ones; write every score to `csv` when given.
pub fn report(rows: &[Row], attacks: &[String], csv: Option<&Path>) {
    let marked: Vec<&Row> = rows.iter().filter(|r| r.psnr.is_some()).collect();
    println!("first-stage screen (comb z-score threshold {THRESHOLD}, pilot {PILOT_THRESHOLD}):");
    if !marked.is_empty() {
        marked_table(&marked, attacks);
    }
    let unmarked: Vec<Score> = rows
        .iter()
        .flat_map(|r| r.unmarked_screen.clone())
        .collect();
    let through = unmarked.iter().filter(|s| s.passes()).count();
    println!(
        "unmarked: {through}/{} ({:.1}%) pass the screen and get the full search",
        unmarked.len(),
        pct(through, unmarked.len())
    );
    if let Some(path) = csv {
        let mut out = String::from("image,kind,attack,exact,comb,pilot\n");
        for r in rows {
            for s in &r.unmarked_screen {
                out += &format!("{},unmarked,,,{:.3},{:.3}\n", r.name, s.comb, s.pilot);
            }
            for (k, o) in r.results.iter().enumerate() {
                if let Some(s) = o.screen {
                    out += &format!(
                        "{},marked,\"{}\",{},{:.3},{:.3}\n",
                        r.name, attacks[k], o.exact, s.comb, s.pilot
                    );
                }
            }
        }
        let written = std::fs::File::create(path).and_then(|mut f| f.write_all(out.as_bytes()));
        if let Err(e) = written {
            eprintln!("error: {}: {e}", path.display());
        }
    }
}

/// Per attack: marked images turned away, and exact detections lost.
fn marked_table(marked: &[&Row], attacks: &[String]) {
    let (mut all, mut passed, mut exact, mut lost) = (0, 0, 0, 0);
    println!("| attack | turned away | exact detections turned away | lowest score of an exact detection |");
    println!("|---|---|---|---|");
    for (k, name) in attacks.iter().enumerate() {
        let outs: Vec<_> = marked.iter().map(|r| r.results[k]).collect();
        let n = outs.len();
        let away = outs
            .iter()
            .filter(|o| o.screen.is_some_and(|s| !s.passes()))
            .count();
        let hits: Vec<_> = outs.iter().filter(|o| o.exact).collect();
        let hits_away = hits
            .iter()
            .filter(|o| o.screen.is_some_and(|s| !s.passes()))
            .count();
        let lowest = hits
            .iter()
            .filter_map(|o| o.screen.map(|s| s.comb))
            .fold(f64::INFINITY, f64::min);
        println!(
            "| {name} | {away}/{n} | {hits_away}/{} | {lowest:.2} |",
            hits.len()
        );
        all += n;
        passed += n - away;
        exact += hits.len();
        lost += hits_away;
    }
    println!(
        "marked, attacked: passed {passed}/{all} ({:.2}%; miss rate {:.2}%); exact detections turned away {lost}/{exact} ({:.2}%)",
        pct(passed, all),
        100.0 - pct(passed, all),
        pct(lost, exact)
    );
}
