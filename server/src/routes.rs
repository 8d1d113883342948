//! Host routes — the endpoints beside the Leptos pages and server functions. Each file of routes
//! builds a [`HostRoutes`]; the router merges them; and the (method, path) list they carry is what
//! `server/tests/isolation.rs` enumerates, so a new route without an attack case fails it.

use axum::{
    extract::DefaultBodyLimit,
    handler::Handler,
    routing::{self, MethodRouter},
    Router,
};

use crate::HostState;

#[derive(Default)]
pub struct HostRoutes {
    /// Routes under the global body limit.
    bounded: Router<HostState>,
    /// Routes that read their bodies within limits of their own (uploads, webhooks).
    own_limit: Router<HostState>,
    listed: Vec<(&'static str, &'static str)>,
}

impl HostRoutes {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get<H: Handler<T, HostState>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        self.add("GET", path, routing::get(handler), false)
    }

    pub fn post<H: Handler<T, HostState>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        self.add("POST", path, routing::post(handler), false)
    }

    /// A POST that reads at most `limit` bytes of body (`None`: the handler limits itself).
    pub fn post_with_limit<H: Handler<T, HostState>, T: 'static>(self, path: &'static str, handler: H, limit: Option<usize>) -> Self {
        let layer = limit.map_or(DefaultBodyLimit::disable(), DefaultBodyLimit::max);
        self.add("POST", path, routing::post(handler).layer(layer), true)
    }

    fn add(mut self, method: &'static str, path: &'static str, route: MethodRouter<HostState>, own_limit: bool) -> Self {
        if own_limit {
            self.own_limit = self.own_limit.route(path, route);
        } else {
            self.bounded = self.bounded.route(path, route);
        }
        self.listed.push((method, path));
        self
    }

    pub fn merge(mut self, other: HostRoutes) -> Self {
        self.bounded = self.bounded.merge(other.bounded);
        self.own_limit = self.own_limit.merge(other.own_limit);
        self.listed.extend(other.listed);
        self
    }

    /// Every route as (method, path template), e.g. `("GET", "/admin/users.csv")`.
    pub fn listed(&self) -> &[(&'static str, &'static str)] {
        &self.listed
    }

    /// The two routers: under the global body limit, and with limits of their own.
    pub fn into_routers(self) -> (Router<HostState>, Router<HostState>) {
        (self.bounded, self.own_limit)
    }
}

/// Every host route of the application.
pub fn all(config: &backend::platform::config::Config) -> HostRoutes {
    HostRoutes::new()
        .merge(crate::web_auth::routes())
        .merge(crate::health::routes())
        .merge(crate::exports::routes())
        .merge(crate::portal::routes())
        .merge(crate::personalization::routes())
        .merge(crate::uploads::routes(config))
        .merge(crate::webhooks::routes())
}
