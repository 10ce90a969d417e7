//! The audit pages: `/audit` (draw a sample, see the verdicts and the error rate),
//! `POST /audit/verdict` (the desk's only write besides the access log, behind the session's
//! CSRF token), and the login and logout of desk users.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, HeaderValue, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Extension;

use super::app::Desk;
use super::pages::{blocking, encode_pairs, nav, period, Fail, Params};
use super::security::{self, Who};
use super::templates::{self, Nav, SampleRow};
use crate::audit_sample::{self, AuditError};
use crate::date::Date;
use crate::index::desk::NewVerdict;
use crate::index::IndexError;
use crate::store::StoreError;

fn number(p: &HashMap<String, String>, k: &str) -> Result<Option<u64>, Fail> {
    match p.get(k).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| Fail::BadRequest(format!("{k}={s:?} is not a number"))),
    }
}

pub(crate) async fn audit(
    State(desk): State<Arc<Desk>>,
    Extension(who): Extension<Who>,
    headers: HeaderMap,
    uri: Uri,
    axum::extract::Query(p): Params,
) -> Result<Response, Fail> {
    let (from, to, _) = period(&p)?;
    let size = number(&p, "size")?;
    let seed = number(&p, "seed")?;
    if let (Some(size), None) = (size, seed) {
        // A fresh seed, put in the address: the sample on screen can be drawn again.
        let q = sample_pairs(from, to, size, audit_sample::fresh_seed());
        return Ok(Redirect::to(&format!("/audit?{}", encode_pairs(&q))).into_response());
    }
    let size = size.map(|s| s.min(10_000) as usize);
    let (drawn, report) = blocking(&desk, move |d| {
        d.read(|i| -> Result<_, AuditError> {
            let drawn = match (size, seed) {
                (Some(size), Some(seed)) => Some(audit_sample::sample(i, from, to, size, seed)?),
                _ => None,
            };
            Ok((drawn, audit_sample::report(i, from, to)?))
        })?
        .map_err(Fail::from)
    })
    .await?;
    let (lang, nav) = nav(&desk, &who, &headers, &uri, "");
    let standing: HashMap<&str, &str> = report
        .verdicts
        .iter()
        .map(|v| (v.dossier_code.as_str(), v.verdict.as_str()))
        .collect();
    let page = templates::Audit {
        from: from.map(Date::iso).unwrap_or_default(),
        to: to.map(Date::iso).unwrap_or_default(),
        size: size.map(|s| s.to_string()).unwrap_or_default(),
        seed: seed.map(|s| s.to_string()).unwrap_or_default(),
        drawn: drawn.is_some(),
        population: drawn.as_ref().map_or(0, |s| s.population),
        sample: drawn
            .iter()
            .flat_map(|s| &s.dossiers)
            .map(|code| SampleRow {
                standing: match standing.get(code.as_str()) {
                    Some(&"confirmed") => nav.w.confirmed.to_owned(),
                    Some(_) => nav.w.not_confirmed.to_owned(),
                    None => String::new(),
                },
                href: format!("/dossiers/{}", super::pages::pct(code)),
                code: code.clone(),
            })
            .collect(),
        checked: report.checked,
        not_confirmed: report.not_confirmed,
        error_rate: lang.percent(report.error_percent),
        interval: report.wilson_95.map_or_else(
            || "—".into(),
            |[lo, hi]| format!("{} – {}", lang.percent(Some(lo)), lang.percent(Some(hi))),
        ),
        nav: Nav {
            title: nav.w.audit.to_owned(),
            ..nav
        },
    };
    Ok(Html(page.render()?).into_response())
}

fn sample_pairs(
    from: Option<Date>,
    to: Option<Date>,
    size: u64,
    seed: u64,
) -> Vec<(String, String)> {
    vec![
        ("from".into(), from.map(Date::iso).unwrap_or_default()),
        ("to".into(), to.map(Date::iso).unwrap_or_default()),
        ("size".into(), size.to_string()),
        ("seed".into(), seed.to_string()),
    ]
}

pub(crate) async fn verdict(
    State(desk): State<Arc<Desk>>,
    Extension(who): Extension<Who>,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, Fail> {
    if !security::csrf_ok(&who, f.get("csrf").map(String::as_str).unwrap_or("")) {
        return Err(Fail::BadRequest(
            "the form's CSRF token does not match the session".into(),
        ));
    }
    let (from, to, _) = period(&f)?;
    let size = number(&f, "size")?;
    let seed = number(&f, "seed")?;
    let code = f.get("code").cloned().unwrap_or_default();
    let verdict = f.get("verdict").cloned().unwrap_or_default();
    let note: String = f
        .get("note")
        .cloned()
        .unwrap_or_default()
        .chars()
        .take(2000)
        .collect();
    let sample = match (size, seed) {
        (Some(size), Some(seed)) => Some(serde_json::json!({
            "from": from.map(Date::iso), "to": to.map(Date::iso), "size": size, "seed": seed,
        })),
        _ => None,
    };
    let user = who.user.clone();
    blocking(&desk, move |d| {
        let at = crate::timefmt::now_rfc3339();
        let v = NewVerdict {
            at: &at,
            dossier_code: &code,
            auditor: &user,
            verdict: &verdict,
            note: &note,
            sample,
        };
        audit_sample::record(&d.archive, d.index_url.as_deref(), &v).map_err(|e| match e {
            AuditError::BadVerdict(_) => Fail::BadRequest(e.to_string()),
            AuditError::NoSuchDossier(_) => Fail::NotFound(e.to_string()),
            AuditError::Store(StoreError::Locked { .. }) => {
                Fail::Conflict(format!("{e}: try again when the run has finished"))
            }
            e => Fail::Internal(e.to_string()),
        })
    })
    .await?;
    let back = match (size, seed) {
        (Some(size), Some(seed)) => format!(
            "/audit?{}",
            encode_pairs(&sample_pairs(from, to, size, seed))
        ),
        _ => "/audit".to_owned(),
    };
    Ok(Redirect::to(&back).into_response())
}

pub(crate) async fn login_form(
    State(desk): State<Arc<Desk>>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, Fail> {
    let nobody = Who {
        user: String::new(),
        csrf: String::new(),
    };
    let (_, nav) = nav(&desk, &nobody, &headers, &uri, "");
    let page = templates::Login {
        nav: Nav {
            title: nav.w.login.to_owned(),
            logout: false,
            ..nav
        },
        failed: uri.query().is_some_and(|q| q.contains("failed")),
    };
    Ok(Html(page.render()?).into_response())
}

pub(crate) async fn login(
    State(desk): State<Arc<Desk>>,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, Fail> {
    let user = f.get("user").cloned().unwrap_or_default();
    let password = f.get("password").cloned().unwrap_or_default();
    let u = user.clone();
    let ok = blocking(&desk, move |d| {
        let hash = d
            .read(|i| i.desk_user_hash(&u))?
            .map_err(|e: IndexError| Fail::from(e))?;
        // A wrong name costs as much as a wrong password.
        let hash = hash.unwrap_or_else(|| security::hash_password("no such user"));
        Ok(security::password_matches(&password, &hash))
    })
    .await?;
    if !ok {
        return Ok(Redirect::to("/login?failed").into_response());
    }
    let (token, _) = desk.sessions.create(&user);
    let mut res = Redirect::to("/").into_response();
    res.headers_mut()
        .append(header::SET_COOKIE, security::session_cookie(&token));
    Ok(res)
}

pub(crate) async fn logout(
    State(desk): State<Arc<Desk>>,
    Extension(who): Extension<Who>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, Fail> {
    if !security::csrf_ok(&who, f.get("csrf").map(String::as_str).unwrap_or("")) {
        return Err(Fail::BadRequest(
            "the form's CSRF token does not match the session".into(),
        ));
    }
    if let Some(token) = security::cookie(&headers, security::SESSION_COOKIE) {
        desk.sessions.remove(&token);
    }
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static("desk_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(res)
}
