//! The read-only pages: what every handler shares (the page's language and frame, the
//! period from the query, errors as pages), the dashboard, `/api/report`, the dossiers behind
//! a figure, and search. The dossier page and objects are in `dossier_page`, the audit pages
//! in `audit_page`.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::Extension;

use super::app::{by_name, Desk, ListQuery};
use super::i18n;
use super::security::Who;
use super::templates::{self, Bar, Cell, Nav, Row};
use crate::coverage::render::{figure_headings, Lang};
use crate::coverage::{Counts, GroupBy};
use crate::date::Date;

/// A request that cannot be answered, as a page with its status.
#[derive(Debug)]
pub(crate) enum Fail {
    BadRequest(String),
    NotFound(String),
    Conflict(String),
    Internal(String),
}

impl<E: std::error::Error> From<E> for Fail {
    fn from(e: E) -> Fail {
        Fail::Internal(e.to_string())
    }
}

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            Fail::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            Fail::NotFound(m) => (StatusCode::NOT_FOUND, m),
            Fail::Conflict(m) => (StatusCode::CONFLICT, m),
            Fail::Internal(m) => (StatusCode::INTERNAL_SERVER_ERROR, m),
        };
        let body = format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{status}</title>\
             <link rel=\"stylesheet\" href=\"/static/desk.css\"></head><body><main><h1>{status}</h1>\
             <p>{}</p><p><a href=\"/\">←</a></p></main></body></html>",
            escape(&message)
        );
        (status, Html(body)).into_response()
    }
}

/// Escapes text for HTML (the error page is the one page built without a template).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(crate) type Params = Query<HashMap<String, String>>;

/// Runs blocking index work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    desk: &Arc<Desk>,
    work: impl FnOnce(&Desk) -> Result<T, Fail> + Send + 'static,
) -> Result<T, Fail> {
    let desk = Arc::clone(desk);
    tokio::task::spawn_blocking(move || work(&desk))
        .await
        .map_err(|e| Fail::Internal(e.to_string()))?
}

/// The page's language and frame.
pub(crate) fn nav(
    desk: &Desk,
    who: &Who,
    headers: &HeaderMap,
    uri: &Uri,
    title: &str,
) -> (Lang, Nav) {
    let query: HashMap<String, String> = uri.query().map(query_pairs).unwrap_or_default();
    let cookie = super::security::cookie(headers, "lang");
    let lang = i18n::pick(query.get("lang").map(String::as_str), cookie.as_deref());
    let other = if lang == Lang::En { "vi" } else { "en" };
    let mut pairs: Vec<(String, String)> = query.into_iter().filter(|(k, _)| k != "lang").collect();
    pairs.sort();
    pairs.push(("lang".into(), other.into()));
    let switch_url = format!("{}?{}", uri.path(), encode_pairs(&pairs));
    let nav = Nav {
        w: i18n::words(lang),
        l: i18n::labels(lang),
        title: title.to_owned(),
        switch_url,
        user: who.user.clone(),
        csrf: who.csrf.clone(),
        logout: desk.users > 0,
    };
    (lang, nav)
}

fn query_pairs(q: &str) -> HashMap<String, String> {
    Query::<HashMap<String, String>>::try_from_uri(
        &format!("/?{q}")
            .parse()
            .unwrap_or_else(|_| Uri::from_static("/")),
    )
    .map(|Query(m)| m)
    .unwrap_or_default()
}

/// `k=v&…`, percent-encoded.
pub(crate) fn encode_pairs(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", pct(k), pct(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub(crate) fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `from`, `to` (ISO or dd/mm/yyyy, empty for none) and `by` from the query.
pub(crate) fn period(
    p: &HashMap<String, String>,
) -> Result<(Option<Date>, Option<Date>, GroupBy), Fail> {
    let date = |k: &str| -> Result<Option<Date>, Fail> {
        match p.get(k).map(|s| s.trim()).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => Date::parse(s).map(Some).ok_or_else(|| {
                Fail::BadRequest(format!(
                    "{k}={s:?} is not a date (YYYY-MM-DD or dd/mm/yyyy)"
                ))
            }),
        }
    };
    let (from, to) = (date("from")?, date("to")?);
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(Fail::BadRequest(format!(
                "from {} is after to {}",
                f.iso(),
                t.iso()
            )));
        }
    }
    let by = match p.get("by").map(String::as_str).unwrap_or("") {
        "" | "procedure" => GroupBy::Procedure,
        "unit" => GroupBy::Unit,
        "month" => GroupBy::Month,
        other => {
            return Err(Fail::BadRequest(format!(
                "by={other:?}: expected procedure, unit or month"
            )))
        }
    };
    Ok((from, to, by))
}

fn period_pairs(from: Option<Date>, to: Option<Date>, by: GroupBy) -> Vec<(String, String)> {
    vec![
        ("from".into(), from.map(Date::iso).unwrap_or_default()),
        ("to".into(), to.map(Date::iso).unwrap_or_default()),
        ("by".into(), by_name(by).into()),
    ]
}

/// The measures that count dossiers, in the order of the report's columns.
pub(crate) const MEASURES: [&str; 5] = [
    "received",
    "input_digitized",
    "completed",
    "result_digitized",
    "digitized",
];

/// A group's (or the totals') cells: counts linked to their dossiers, rates as text.
fn cells(c: &Counts, lang: Lang, link: &dyn Fn(&str) -> String) -> Vec<Cell> {
    let count = |m: &str, n: u64| Cell {
        text: n.to_string(),
        href: Some(link(m)),
    };
    let rate = |p: Option<f64>| Cell {
        text: lang.percent(p),
        href: None,
    };
    vec![
        count("received", c.received),
        count("input_digitized", c.input_digitized),
        rate(c.input_percent),
        count("completed", c.completed),
        count("result_digitized", c.result_digitized),
        rate(c.result_percent),
        count("digitized", c.digitized),
        rate(c.digitized_percent),
    ]
}

pub(crate) async fn dashboard(
    State(desk): State<Arc<Desk>>,
    Extension(who): Extension<Who>,
    headers: HeaderMap,
    uri: Uri,
    Query(p): Params,
) -> Result<Response, Fail> {
    let (from, to, by) = period(&p)?;
    let (lang, nav) = nav(&desk, &who, &headers, &uri, "");
    let cached = blocking(&desk, move |d| Ok(d.read(|i| d.report(i, from, to, by))??)).await?;
    let r = &cached.report;
    let base = period_pairs(from, to, by);
    let link = |key: Option<&str>| {
        let base = base.clone();
        let key = key.map(str::to_owned);
        move |m: &str| {
            let mut q = base.clone();
            if let Some(k) = &key {
                q.push(("key".into(), k.clone()));
            }
            q.push(("measure".into(), m.into()));
            format!("/dossiers?{}", encode_pairs(&q))
        }
    };
    let rows: Vec<Row> = r
        .groups
        .iter()
        .map(|g| Row {
            key: g.key.clone(),
            name: g.name.clone().unwrap_or_default(),
            cells: cells(&g.counts, lang, &link(Some(&g.key))),
            below: g.below_target,
        })
        .collect();
    let l = nav.l;
    let bars = r
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| Bar {
            y: i as u32 * 22,
            width: (g.counts.digitized_percent.unwrap_or(0.0) * 4.0).round() as u32,
            label: truncate(&g.key, 34),
            text: lang.percent(g.counts.digitized_percent),
            below: g.below_target,
        })
        .collect::<Vec<_>>();
    let page = templates::Dashboard {
        from: from.map(Date::iso).unwrap_or_default(),
        to: to.map(Date::iso).unwrap_or_default(),
        by: by_name(by),
        api_url: format!("/api/report?{}", encode_pairs(&base)),
        target: lang.percent(Some(r.target_percent)),
        ledger: r
            .ledger_head
            .as_ref()
            .map(|h| h.to_string())
            .unwrap_or_default(),
        headings: figure_headings(by, l).to_vec(),
        totals: cells(&r.totals, lang, &link(None)),
        rows,
        chart_height: (bars.len() as u32 * 22).max(22),
        target_x: 220 + (r.target_percent * 4.0).round() as u32,
        bars,
        nav: Nav {
            title: l.title.to_owned(),
            ..nav
        },
    };
    Ok(Html(page.render()?).into_response())
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        s.chars().take(n - 1).chain(['…']).collect()
    }
}

/// `report --format json`'s bytes for the same period and grouping.
pub(crate) async fn api_report(
    State(desk): State<Arc<Desk>>,
    Query(p): Params,
) -> Result<Response, Fail> {
    let (from, to, by) = period(&p)?;
    let cached = blocking(&desk, move |d| Ok(d.read(|i| d.report(i, from, to, by))??)).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        cached.json.clone(),
    )
        .into_response())
}

/// Dossiers shown at most on one list page.
const LIST_MAX: usize = 2000;

/// The dossiers behind a figure: `?from&to&by&key&measure` (no key: the totals).
pub(crate) async fn dossiers(
    State(desk): State<Arc<Desk>>,
    Extension(who): Extension<Who>,
    headers: HeaderMap,
    uri: Uri,
    Query(p): Params,
) -> Result<Response, Fail> {
    let (from, to, by) = period(&p)?;
    let measure = p
        .get("measure")
        .cloned()
        .unwrap_or_else(|| "received".into());
    if !MEASURES.contains(&measure.as_str()) {
        return Err(Fail::BadRequest(format!(
            "measure={measure:?}: expected one of {}",
            MEASURES.join(", ")
        )));
    }
    let key = p.get("key").cloned();
    let query = ListQuery {
        from,
        to,
        by,
        measure: measure.clone(),
        key: key.clone(),
    };
    let codes = blocking(&desk, move |d| Ok(d.read(|i| d.dossier_list(i, &query))??)).await?;
    let (lang, nav) = nav(&desk, &who, &headers, &uri, "");
    let l = i18n::labels(lang);
    let label = match measure.as_str() {
        "received" => l.received,
        "input_digitized" => l.input_digitized,
        "completed" => l.completed,
        "result_digitized" => l.result_digitized,
        _ => l.digitized,
    };
    let what = match &key {
        Some(k) => format!("{label} · {k}"),
        None => format!("{label} · {}", l.totals),
    };
    let total = codes.len();
    let shown: Vec<(String, String)> = codes
        .iter()
        .take(LIST_MAX)
        .map(|c| (c.clone(), format!("/dossiers/{}", pct(c))))
        .collect();
    let page = templates::List {
        nav: Nav {
            title: what.clone(),
            ..nav
        },
        what,
        shown: shown.len(),
        total,
        codes: shown,
    };
    Ok(Html(page.render()?).into_response())
}

pub(crate) async fn search(
    State(desk): State<Arc<Desk>>,
    Extension(who): Extension<Who>,
    headers: HeaderMap,
    uri: Uri,
    Query(p): Params,
) -> Result<Response, Fail> {
    let q = p.get("q").cloned().unwrap_or_default();
    if q.chars().count() > 500 {
        return Err(Fail::BadRequest(
            "the query is longer than 500 characters".into(),
        ));
    }
    let query = q.clone();
    let hits = blocking(&desk, move |d| Ok(d.read(|i| i.search(&query, 50))??)).await?;
    let (_, nav) = nav(&desk, &who, &headers, &uri, "");
    let page = templates::Search {
        nav: Nav {
            title: nav.w.search.to_owned(),
            ..nav
        },
        hits: hits
            .into_iter()
            .map(|h| templates::HitVm {
                href: format!("/dossiers/{}?q={}", pct(&h.dossier_code), pct(&q)),
                dossier_code: h.dossier_code,
                procedure_code: h.procedure_code,
                document: h.document,
                page: h.page,
                snippet: h.snippet,
            })
            .collect(),
        q,
    };
    Ok(Html(page.render()?).into_response())
}
