//! The routes (SPEC.md "Auditors' web desk") and the layers every request passes: security
//! headers (outermost, so error pages carry them too), the language cookie, the session.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{self, HeaderValue};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use super::app::Desk;
use super::security::{self, SESSION_COOKIE};
use super::{audit_page, dossier_page, pages};

pub(crate) fn router(desk: Arc<Desk>) -> Router {
    Router::new()
        .route("/", get(pages::dashboard))
        .route("/api/report", get(pages::api_report))
        .route("/dossiers", get(pages::dossiers))
        .route("/dossiers/{code}", get(dossier_page::dossier))
        .route("/objects/{sha256}", get(dossier_page::object))
        .route(
            "/objects/{sha256}/pages/{page}",
            get(dossier_page::page_image),
        )
        .route("/search", get(pages::search))
        .route("/audit", get(audit_page::audit))
        .route("/audit/verdict", post(audit_page::verdict))
        .route(
            "/login",
            get(audit_page::login_form).post(audit_page::login),
        )
        .route("/logout", post(audit_page::logout))
        .route("/static/desk.css", get(css))
        .fallback(|| async { pages::Fail::NotFound("no such page".into()) })
        .layer(middleware::from_fn_with_state(
            Arc::clone(&desk),
            authenticate,
        ))
        .layer(middleware::from_fn(language))
        .layer(middleware::from_fn(security::headers))
        .with_state(desk)
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("desk.css"),
    )
        .into_response()
}

/// `?lang=en|vi` is remembered in a cookie.
async fn language(req: Request, next: Next) -> Response {
    let lang = req.uri().query().and_then(|q| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("lang="))
            .filter(|v| *v == "en" || *v == "vi")
            .map(str::to_owned)
    });
    let mut res = next.run(req).await;
    if let Some(lang) = lang {
        if let Ok(v) = HeaderValue::from_str(&format!("lang={lang}; Path=/; SameSite=Strict")) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

/// Finds the request's session. Without desk users, makes one for `local`; with users, a
/// request without a session goes to the login page (401 for the API and objects).
async fn authenticate(State(desk): State<Arc<Desk>>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path == "/login" || path == "/static/desk.css" {
        return next.run(req).await;
    }
    let session =
        security::cookie(req.headers(), SESSION_COOKIE).and_then(|t| desk.sessions.get(&t));
    if let Some(who) = session {
        req.extensions_mut().insert(who);
        return next.run(req).await;
    }
    if desk.users > 0 {
        if path.starts_with("/api/") || path.starts_with("/objects/") {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        return Redirect::to("/login").into_response();
    }
    let (token, who) = desk.sessions.create("local");
    req.extensions_mut().insert(who);
    let mut res = next.run(req).await;
    res.headers_mut()
        .append(header::SET_COOKIE, security::session_cookie(&token));
    res
}
