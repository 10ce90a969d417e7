//! Code 128 (subset B: printable ASCII), written and read along one scan line.

/// Bar and space widths, in modules, of the 107 symbols (106 is the stop, 7 elements).
const PATTERNS: [&str; 107] = [
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212",
    "221213", "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221",
    "223211", "221132", "221231", "213212", "223112", "312131", "311222", "321122", "321221",
    "312212", "322112", "322211", "212123", "212321", "232121", "111323", "131123", "131321",
    "112313", "132113", "132311", "211313", "231113", "231311", "112133", "112331", "132131",
    "113123", "113321", "133121", "313121", "211331", "231131", "213113", "213311", "213131",
    "311123", "311321", "331121", "312113", "312311", "332111", "314111", "221411", "431111",
    "111224", "111422", "121124", "121421", "141122", "141221", "112214", "112412", "122114",
    "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111", "111242",
    "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
    "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311",
    "113141", "114131", "311141", "411131", "211412", "211214", "211232", "2331112",
];
const START_B: usize = 104;
const STOP: usize = 106;

fn widths(symbol: usize) -> impl Iterator<Item = u32> {
    PATTERNS[symbol].bytes().map(|b| (b - b'0') as u32)
}

/// The module widths (bar, space, bar, ...) of `text` in subset B, with its check symbol;
/// `None` when a character is outside printable ASCII.
pub fn encode(text: &str) -> Option<Vec<u32>> {
    let mut symbols = vec![START_B];
    for c in text.chars() {
        if !(' '..='~').contains(&c) {
            return None;
        }
        symbols.push(c as usize - 32);
    }
    let check = symbols
        .iter()
        .enumerate()
        .map(|(i, &s)| i.max(1) * s)
        .sum::<usize>()
        % 103;
    symbols.push(check);
    symbols.push(STOP);
    Some(symbols.into_iter().flat_map(widths).collect())
}

/// What one scan line shows.
#[derive(Debug, PartialEq, Eq)]
pub enum Scan {
    Nothing,
    /// A start symbol and a run of valid symbols, but no valid end or check: the text of the
    /// symbols read before the damage (the longest such run on the line). Only for telling
    /// what kind of code it was: it is unchecked, and never to be shown.
    Damaged(String),
    Text(String),
}

/// Reads a Code 128 (subset B) symbol from the runs of one line of pixels (`dark` per pixel).
pub fn scan_line(dark: &[bool]) -> Scan {
    // Lengths of alternating runs, starting with the first dark one.
    let mut runs: Vec<u32> = Vec::new();
    let Some(first) = dark.iter().position(|&d| d) else {
        return Scan::Nothing;
    };
    let mut current = true;
    let mut len = 0u32;
    for &d in &dark[first..] {
        if d == current {
            len += 1;
        } else {
            runs.push(len);
            current = d;
            len = 1;
        }
    }
    runs.push(len);
    let mut damaged: Option<String> = None;
    // Bars sit at even positions; try each as the start symbol.
    let mut i = 0;
    while i + 6 <= runs.len() {
        match read_from(&runs[i..]) {
            Scan::Text(t) => return Scan::Text(t),
            Scan::Damaged(partial) => {
                if damaged.as_ref().is_none_or(|d| d.len() < partial.len()) {
                    damaged = Some(partial);
                }
            }
            Scan::Nothing => {}
        }
        i += 2;
    }
    match damaged {
        Some(partial) => Scan::Damaged(partial),
        None => Scan::Nothing,
    }
}

fn text_of(symbols: &[usize]) -> String {
    symbols
        .iter()
        .map(|&s| char::from(b' ' + s as u8))
        .collect()
}

fn classify(runs: &[u32], module: f32) -> Option<usize> {
    let total: u32 = runs.iter().sum();
    let modules = if runs.len() == 7 { 13.0 } else { 11.0 };
    // The symbol's own width gives its module size: robust to slow drift along the line.
    let unit = total as f32 / modules;
    if (unit / module - 1.0).abs() > 0.35 {
        return None;
    }
    let seen: Vec<u32> = runs
        .iter()
        .map(|&r| ((r as f32 / unit).round() as u32).clamp(1, 4))
        .collect();
    PATTERNS.iter().position(|p| {
        p.len() == runs.len() && p.bytes().zip(&seen).all(|(b, &s)| (b - b'0') as u32 == s)
    })
}

fn read_from(runs: &[u32]) -> Scan {
    let start: u32 = runs[..6].iter().sum();
    let module = start as f32 / 11.0;
    if module < 1.0 || classify(&runs[..6], module) != Some(START_B) {
        return Scan::Nothing;
    }
    let mut symbols = vec![START_B];
    let mut at = 6;
    loop {
        if at + 7 <= runs.len() && classify(&runs[at..at + 7], module) == Some(STOP) {
            break;
        }
        let symbol = if at + 6 > runs.len() {
            None
        } else {
            classify(&runs[at..at + 6], module)
        };
        match symbol {
            Some(s) if s < 103 => symbols.push(s),
            _ if symbols.len() > 4 => return Scan::Damaged(text_of(&symbols[1..])),
            _ => return Scan::Nothing,
        }
        at += 6;
    }
    if symbols.len() < 2 {
        return Scan::Nothing;
    }
    let check = symbols.pop().expect("at least two");
    let sum = symbols
        .iter()
        .enumerate()
        .map(|(i, &s)| i.max(1) * s)
        .sum::<usize>()
        % 103;
    if sum != check {
        return Scan::Damaged(text_of(&symbols[1..]));
    }
    Scan::Text(text_of(&symbols[1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str, module: usize) -> Vec<bool> {
        let mut out = vec![false; 40];
        let mut dark = true;
        for w in encode(text).unwrap() {
            out.extend(std::iter::repeat_n(dark, w as usize * module));
            dark = !dark;
        }
        out.extend(vec![false; 40]);
        out
    }

    #[test]
    fn every_symbol_is_eleven_modules_and_distinct() {
        for (i, p) in PATTERNS.iter().enumerate() {
            let sum: u32 = p.bytes().map(|b| (b - b'0') as u32).sum();
            assert_eq!(sum, if i == STOP { 13 } else { 11 }, "symbol {i}");
        }
        let mut sorted = PATTERNS.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 107);
    }

    #[test]
    fn round_trips_and_notices_damage() {
        let text = "1.001193/000.00.01.H50-240115-0001/result";
        for module in [2, 3, 5] {
            assert_eq!(scan_line(&line(text, module)), Scan::Text(text.into()));
        }
        let mut broken = line(text, 3);
        let mid = broken.len() / 2;
        broken[mid..mid + 30].iter_mut().for_each(|d| *d = true);
        // What was read before the damage tells what kind of code it is.
        let Scan::Damaged(partial) = scan_line(&broken) else {
            panic!("damage is noticed")
        };
        assert!(
            partial.len() > 4 && text.starts_with(&partial),
            "{partial:?}"
        );
        assert_eq!(scan_line(&[false; 100]), Scan::Nothing);
        assert!(encode("mã").is_none());
    }
}
