//! The handshake: a request to `/ws/*` that asks to switch protocols is checked (origin, token,
//! role, standing, budgets) and answered `101` or with the JSON error, then its connection is
//! handed to the protocol loop ([`super::run`]). Apart from the loop: what may open a socket is
//! one concern, what a socket may say another.
//!
//! Upgrades do not go through actix-web's router: the HTTP/1 service hands every request that
//! asks to switch protocols to [`upgrade`] with the raw connection, so the HTTP/1 dispatcher and
//! its buffers go. Kept because its memory figure holds: an idle socket costs 4.2 KiB of RSS with
//! 18,000 open (measured again after issue 23's refactor, docs/benchmarks.md), where `actix-ws`
//! inside the dispatcher cost 20.8 KiB.

use actix_codec::{Framed, FramedParts};
use actix_http::body::{BodySize, MessageBody};
use actix_http::{ConnectionType, Request, h1};
use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpResponse, ResponseError, web};
use futures_util::SinkExt;
use talktime_domain::account::{ApprovalStatus, Role};
use talktime_services::auth::Principal;
use talktime_services::rate_limit::network_key;
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::{Role as WsRole, WebSocketConfig};

use super::{Peer, run};
use crate::error::ApiError;
use crate::extract::token_in;
use crate::{AppState, TrustedProxies};

/// Frames up to this size are read whole before the 1009, so the close handshake is clean; a
/// bigger one is cut off mid-frame (its connection may end in a reset instead).
const MAX_READ_BYTES: usize = 64 * 1024;
/// What tungstenite reads at a time: frames are small, and an idle socket holds only this.
const READ_CHUNK: usize = 512;

/// A plain `GET` (no upgrade) to a WebSocket endpoint.
pub fn configure(cfg: &mut web::ServiceConfig) {
    for path in ["/ws/user", "/ws/telecaller", "/ws/admin"] {
        cfg.route(
            path,
            web::get().to(|| async {
                Err::<HttpResponse, _>(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "websocket_required",
                    "This endpoint speaks WebSocket only",
                ))
            }),
        );
    }
}

type Upgrading = Framed<TcpStream, h1::Codec>;

/// Every HTTP/1 request that asks to switch protocols, with its connection. Answers once the
/// connection is over.
pub async fn upgrade(state: web::Data<AppState>, proxies: TrustedProxies, req: Request, mut framed: Upgrading) {
    let role = match req.path() {
        "/ws/user" => Role::User,
        "/ws/telecaller" => Role::Telecaller,
        "/ws/admin" => Role::Admin,
        _ => return refuse(&mut framed, ApiError::not_found()).await,
    };
    let peer = match handshake(&state, &proxies, &req, role).await {
        Ok(peer) => peer,
        Err(error) => return refuse(&mut framed, error).await,
    };
    let accepted = actix_http::ws::handshake_response(req.head()).finish().drop_body();
    // Nothing of the request is needed any more: its head (headers and all) goes back now, not
    // when the connection ends.
    drop(req);
    if framed.send(h1::Message::Item((accepted, BodySize::None))).await.is_err() {
        return;
    }
    // What the client sent after its request is the start of the WebSocket stream; the HTTP/1
    // buffers themselves are let go.
    let FramedParts { io, read_buf, .. } = framed.into_parts();
    let leftover = read_buf.to_vec();
    drop(read_buf);
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_CHUNK)
        .write_buffer_size(0)
        .max_frame_size(Some(MAX_READ_BYTES))
        .max_message_size(Some(MAX_READ_BYTES));
    let socket = WebSocketStream::from_partially_read(io, leftover, WsRole::Server, Some(config)).await;
    // One span per connection; the query string (which may hold the token) is never recorded.
    let span = tracing::info_span!("ws", role = %role, account = %peer.id());
    // A task of its own, so the HTTP connection's task (and all it was sized for) ends here.
    actix_web::rt::spawn(tracing::Instrument::instrument(run(state.into_inner(), role, peer, socket), span));
}

/// The checks before the upgrade: token (header, cookie, or `token` query parameter), role and
/// standing, then the handshake budgets. A refused token counts against the client's network
/// (`RATE_LIMIT_WS_CONNECT_PER_IP`); an accepted one against its account
/// (`RATE_LIMIT_WS_CONNECT_PER_ACCOUNT`), so one bad client behind a carrier NAT cannot lock its
/// neighbours out, and one account's reconnect storm hurts nobody else.
async fn handshake(state: &AppState, proxies: &TrustedProxies, req: &Request, role: Role) -> Result<Peer, ApiError> {
    actix_http::ws::verify_handshake(req.head()).map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_handshake", format!("Not a WebSocket handshake: {e}"))
    })?;
    // A page on another site must not open a socket with the visitor's cookie.
    if !crate::security::origin_allowed(req.headers(), &state.ws_origins) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "origin_not_allowed", "This origin may not open a socket"));
    }
    match authenticate(state, req, role).await {
        Ok(peer) => {
            state.ws_connects.per_account.spend(&*state.limiter, &format!("ws:account:{}", peer.id())).await?;
            Ok(peer)
        }
        Err(refused) => {
            let peer_ip = req.peer_addr().map_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), |a| a.ip());
            let forwarded = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
            let ip = proxies.client_ip(peer_ip, forwarded);
            state.ws_connects.refused_per_network.spend(&*state.limiter, &network_key("ws", ip)).await?;
            Err(refused)
        }
    }
}

/// Who the handshake's token speaks for, if they may use this endpoint.
async fn authenticate(state: &AppState, req: &Request, role: Role) -> Result<Peer, ApiError> {
    let token = token_in(req.headers())
        .or_else(|| {
            web::Query::<std::collections::HashMap<String, String>>::from_query(req.uri().query().unwrap_or_default())
                .ok()
                .and_then(|q| q.get("token").cloned())
        })
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "missing_token", "Authentication required"))?;
    let principal = state.auth.authenticate(&token).await?;
    let forbidden = |code: &'static str, message: &str| ApiError::new(StatusCode::FORBIDDEN, code, message);
    match (role, principal) {
        (Role::User, Principal::Account(a)) if a.role == Role::User => Ok(Peer::Account(a)),
        (Role::Telecaller, Principal::Account(a)) if a.role == Role::Telecaller => {
            if a.approval_status() != Some(ApprovalStatus::Approved) {
                return Err(forbidden("telecaller_not_approved", "Your telecaller profile is not approved"));
            }
            Ok(Peer::Account(a))
        }
        (Role::Admin, Principal::Admin(admin)) => Ok(Peer::Admin(admin)),
        _ => Err(forbidden("forbidden_role", "You do not have access to this endpoint")),
    }
}

/// A refused handshake: the JSON error body as a plain HTTP answer, then the connection closes.
async fn refuse(framed: &mut Upgrading, error: ApiError) {
    let response: HttpResponse = error.error_response();
    let (mut head, body) = actix_http::Response::from(response).into_parts();
    let body = body.try_into_bytes().unwrap_or_default();
    head.head_mut().set_connection_type(ConnectionType::Close);
    let size = BodySize::Sized(body.len() as u64);
    // Head and body leave in one write: a client reading the refusal finds the body with it.
    let _ = framed.feed(h1::Message::Item((head, size))).await;
    let _ = framed.feed(h1::Message::Chunk(Some(body))).await;
    let _ = framed.feed(h1::Message::Chunk(None)).await;
    // `Framed::close` shuts the socket down without writing what is buffered: flush first.
    let _ = framed.flush().await;
    let _ = framed.close().await;
}
