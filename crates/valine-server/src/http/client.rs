//! Who the client is: its IP (the socket peer, unless the peer is a trusted proxy — then
//! `X-Forwarded-For` is walked from the right past trusted hops) and its user agent.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::auth::sessions::ClientInfo;
use crate::config::Cidr;
use crate::error::ApiError;
use crate::state::AppState;

/// The client's IP as far as it can be trusted.
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[Cidr]) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        // Anyone can write X-Forwarded-For; only believe it from our own proxies.
        return Some(peer);
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .collect();
    // The rightmost address not belonging to a trusted proxy is the client; everything to
    // its left was written by the client itself and may be forged.
    Some(
        hops.iter()
            .rev()
            .find(|ip| !is_trusted(**ip))
            .copied()
            .unwrap_or(peer),
    )
}

impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let ip = client_ip(peer, &parts.headers, &state.settings.trusted_proxies);
        let user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(512).collect::<String>());
        Ok(ClientInfo {
            ip: ip.map(|i| i.to_string()),
            user_agent,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xff(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", v.parse().unwrap());
        h
    }

    #[test]
    fn forged_header_from_untrusted_peer_is_ignored() {
        let peer: IpAddr = "203.0.113.9".parse().unwrap();
        let got = client_ip(Some(peer), &xff("1.2.3.4"), &[]);
        assert_eq!(got, Some(peer));
    }

    #[test]
    fn trusted_proxy_selects_rightmost_untrusted_hop() {
        let trusted = vec![Cidr::parse("10.0.0.0/8").unwrap()];
        let peer: IpAddr = "10.0.0.2".parse().unwrap();
        // client wrote "6.6.6.6" itself; the proxy appended the real client 198.51.100.7.
        let got = client_ip(
            Some(peer),
            &xff("6.6.6.6, 198.51.100.7, 10.0.0.5"),
            &trusted,
        );
        assert_eq!(got, Some("198.51.100.7".parse().unwrap()));
        // No header: the proxy itself.
        assert_eq!(
            client_ip(Some(peer), &HeaderMap::new(), &trusted),
            Some(peer)
        );
    }
}
