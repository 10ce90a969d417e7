//! Words and their boxes out of Tesseract's hOCR, for the searchable PDF's text layer.

/// One recognised word: its text and its box in the page image's pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HocrWord {
    pub text: String,
    pub bbox: [u32; 4],
}

/// Reads the `ocrx_word` spans of one page of hOCR. Unknown markup is skipped, never fatal.
pub fn words(hocr: &str) -> Vec<HocrWord> {
    let mut out = Vec::new();
    let mut rest = hocr;
    while let Some(at) = rest.find("class='ocrx_word'") {
        rest = &rest[at..];
        let Some(tag_end) = rest.find('>') else { break };
        let tag = &rest[..tag_end];
        let bbox = tag.find("bbox ").map(|b| &tag[b + 5..]).and_then(|b| {
            let nums: Vec<u32> = b
                .split([';', '\'', '"'])
                .next()?
                .split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect();
            (nums.len() == 4).then(|| [nums[0], nums[1], nums[2], nums[3]])
        });
        let body_start = tag_end + 1;
        // The word ends where its span closes; inner <strong>/<em> tags are dropped.
        let Some(close) = rest[body_start..].find("</span>") else {
            break;
        };
        let inner = &rest[body_start..body_start + close];
        let text = unescape(&strip_tags(inner));
        if let (Some(bbox), false) = (bbox, text.trim().is_empty()) {
            out.push(HocrWord {
                text: text.trim().to_owned(),
                bbox,
            });
        }
        rest = &rest[body_start + close..];
    }
    out
}

/// The hOCR with its page's box set to the whole `width`×`height` image. Tesseract writes the
/// rectangle it was told to read there, as left, top, width and height: the archived hOCR
/// describes the page as scanned, and hOCR's boxes are corners.
pub fn whole_page_box(hocr: &str, width: u32, height: u32) -> String {
    let Some(page) = hocr.find("class='ocr_page'") else {
        return hocr.to_owned();
    };
    let tag_end = hocr[page..].find('>').map_or(hocr.len(), |e| page + e);
    let Some(start) = hocr[page..tag_end].find("bbox ").map(|b| page + b + 5) else {
        return hocr.to_owned();
    };
    let end = hocr[start..tag_end]
        .find([';', '\'', '"'])
        .map_or(tag_end, |e| start + e);
    format!("{}0 0 {width} {height}{}", &hocr[..start], &hocr[end..])
}

fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_words_boxes_and_entities() {
        let hocr = "<div class='ocr_page' title='bbox 0 0 100 100'>\
            <span class='ocrx_word' id='word_1_1' title='bbox 10 20 30 40; x_wconf 95'>CỘNG</span> \
            <span class='ocrx_word' id='word_1_2' title='bbox 35 20 60 40; x_wconf 91'><strong>A&amp;B</strong></span>\
            <span class='ocrx_word' id='word_1_3' title='bbox 1 2 3 4; x_wconf 0'> </span></div>";
        let w = words(hocr);
        assert_eq!(
            w,
            vec![
                HocrWord {
                    text: "CỘNG".into(),
                    bbox: [10, 20, 30, 40]
                },
                HocrWord {
                    text: "A&B".into(),
                    bbox: [35, 20, 60, 40]
                },
            ]
        );
        assert!(words("<span class='ocrx_word' title='bbox 1 2'>x").is_empty());
    }

    #[test]
    fn the_page_box_becomes_the_whole_image_and_nothing_else_changes() {
        let hocr = "<div class='ocr_page' id='page_1' title='image \"unknown\"; bbox 263 213 1874 1334; ppageno 0'>\
            <span class='ocrx_word' title='bbox 300 250 400 280; x_wconf 95'>Một</span></div>";
        assert_eq!(
            whole_page_box(hocr, 2480, 3508),
            hocr.replace("bbox 263 213 1874 1334", "bbox 0 0 2480 3508")
        );
        assert_eq!(whole_page_box("<p>no page</p>", 10, 10), "<p>no page</p>");
    }
}
