//! The dashboard's sign-in settings, read once from the function's environment (template
//! parameters in AWS) and served to the page at `GET /dashboard/config.json`.
//!
//! | variable | meaning | default |
//! | --- | --- | --- |
//! | `DASHBOARD_OAUTH_AUTHORIZE_URL` | the issuer's authorization endpoint | none: no OAuth sign-in |
//! | `DASHBOARD_OAUTH_TOKEN_URL` | the issuer's token endpoint (the page POSTs the code there) | required with the above |
//! | `DASHBOARD_OAUTH_CLIENT_ID` | the public client (no secret: PKCE) | required with the above |
//! | `DASHBOARD_OAUTH_SCOPES` | space-separated scopes | `openid` |
//! | `DASHBOARD_OAUTH_TOKEN` | which token the page sends as the bearer: `id_token` or `access_token` | `id_token` |
//! | `DASHBOARD_OAUTH_LOGOUT_URL` | where "Sign out" sends the browser after forgetting the token | none |
//!
//! Everything here is public by nature (a PKCE client has no secret), which is why the route that
//! serves it needs no token.

use serde::Serialize;
use utoipa::ToSchema;

/// Which token of the issuer's answer the page uses as `Authorization: Bearer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BearerToken {
    IdToken,
    AccessToken,
}

/// The OAuth 2.0 authorization-code flow with PKCE, as the page runs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OAuthConfig {
    pub authorize_url: String,
    pub token_url: String,
    pub client_id: String,
    /// Space-separated.
    pub scope: String,
    /// Which token of the token endpoint's answer is sent to the API.
    pub bearer: BearerToken,
    /// Path of this page the issuer redirects back to (register `<origin><redirect_path>`).
    pub redirect_path: String,
    pub logout_url: Option<String>,
}

/// `GET /dashboard/config.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct DashboardConfig {
    /// `null`: sign in with a token in the address (`/dashboard#token=<JWT>`) only.
    pub oauth: Option<OAuthConfig>,
}

/// Where the issuer sends the browser back with `?code=…&state=…`.
pub const REDIRECT_PATH: &str = "/dashboard/callback";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DashboardConfigError {
    #[error("{0} is set but {1} is not: OAuth sign-in needs the authorize URL, the token URL and the client id")]
    Incomplete(&'static str, &'static str),
    #[error("{0} must be an https:// URL (or http://localhost for a local issuer)")]
    NotHttps(&'static str),
    #[error("DASHBOARD_OAUTH_TOKEN must be id_token or access_token")]
    BadBearer,
}

const AUTHORIZE: &str = "DASHBOARD_OAUTH_AUTHORIZE_URL";
const TOKEN: &str = "DASHBOARD_OAUTH_TOKEN_URL";
const CLIENT: &str = "DASHBOARD_OAUTH_CLIENT_ID";

impl DashboardConfig {
    /// Reads the variables through `get` (the environment in the Lambda, a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, DashboardConfigError> {
        let get = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let (authorize, token, client) = (get(AUTHORIZE), get(TOKEN), get(CLIENT));
        let (authorize_url, token_url, client_id) = match (authorize, token, client) {
            (None, None, None) => return Ok(Self::default()),
            (Some(a), Some(t), Some(c)) => (a, t, c),
            (a, t, _) => {
                let (set, missing) = match (a.is_some(), t.is_some()) {
                    (false, _) => (if t.is_some() { TOKEN } else { CLIENT }, AUTHORIZE),
                    (true, false) => (AUTHORIZE, TOKEN),
                    (true, true) => (AUTHORIZE, CLIENT),
                };
                return Err(DashboardConfigError::Incomplete(set, missing));
            }
        };
        for (name, url) in [(AUTHORIZE, &authorize_url), (TOKEN, &token_url)] {
            if !is_secure_url(url) {
                return Err(DashboardConfigError::NotHttps(name));
            }
        }
        let bearer = match get("DASHBOARD_OAUTH_TOKEN").as_deref() {
            None | Some("id_token") => BearerToken::IdToken,
            Some("access_token") => BearerToken::AccessToken,
            Some(_) => return Err(DashboardConfigError::BadBearer),
        };
        let logout_url = get("DASHBOARD_OAUTH_LOGOUT_URL");
        if logout_url.as_deref().is_some_and(|u| !is_secure_url(u)) {
            return Err(DashboardConfigError::NotHttps("DASHBOARD_OAUTH_LOGOUT_URL"));
        }
        Ok(Self {
            oauth: Some(OAuthConfig {
                authorize_url,
                token_url,
                client_id,
                scope: get("DASHBOARD_OAUTH_SCOPES").unwrap_or_else(|| "openid".into()),
                bearer,
                redirect_path: REDIRECT_PATH.into(),
                logout_url,
            }),
        })
    }

    pub fn from_env() -> Result<Self, DashboardConfigError> {
        Self::from_lookup(|name| leenkies_adapters::config::Env::process().optional(name))
    }

    /// The origins the page may `fetch` besides its own: the token endpoint's, for the code
    /// exchange. Nothing else, so the token can reach no other host.
    pub fn connect_origins(&self) -> Vec<String> {
        self.oauth
            .iter()
            .filter_map(|o| origin(&o.token_url))
            .collect()
    }
}

fn is_secure_url(url: &str) -> bool {
    url.starts_with("https://")
        || url.starts_with("http://localhost")
        || url.starts_with("http://127.0.0.1")
}

/// `scheme://host[:port]` of a URL, or `None` when it has characters a CSP source cannot hold.
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    let ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    ok.then(|| format!("{scheme}://{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn given_nothing_set_when_read_then_no_oauth() {
        assert_eq!(
            DashboardConfig::from_lookup(lookup(&[])),
            Ok(DashboardConfig::default())
        );
    }

    #[test]
    fn given_cognito_settings_when_read_then_oauth_with_token_origin_for_csp() {
        // GIVEN a Cognito hosted UI domain and an app client
        let c = DashboardConfig::from_lookup(lookup(&[
            (
                AUTHORIZE,
                "https://leenkies.auth.us-east-1.amazoncognito.com/oauth2/authorize",
            ),
            (
                TOKEN,
                "https://leenkies.auth.us-east-1.amazoncognito.com/oauth2/token",
            ),
            (CLIENT, "3n4b5urk1ft4fl3mg5e62d9ado"),
            ("DASHBOARD_OAUTH_SCOPES", "openid email"),
            ("DASHBOARD_OAUTH_TOKEN", "access_token"),
        ]))
        .unwrap();
        // THEN the page gets every setting, and the CSP allows the token endpoint's origin only
        let o = c.oauth.as_ref().unwrap();
        assert_eq!(o.scope, "openid email");
        assert_eq!(o.bearer, BearerToken::AccessToken);
        assert_eq!(o.redirect_path, "/dashboard/callback");
        assert_eq!(
            c.connect_origins(),
            vec!["https://leenkies.auth.us-east-1.amazoncognito.com".to_owned()]
        );
    }

    #[test]
    fn given_partial_or_insecure_settings_when_read_then_clear_error() {
        assert_eq!(
            DashboardConfig::from_lookup(lookup(&[(CLIENT, "abc")])),
            Err(DashboardConfigError::Incomplete(CLIENT, AUTHORIZE))
        );
        assert_eq!(
            DashboardConfig::from_lookup(lookup(&[
                (AUTHORIZE, "https://id.example/authorize"),
                (CLIENT, "abc")
            ])),
            Err(DashboardConfigError::Incomplete(AUTHORIZE, TOKEN))
        );
        assert_eq!(
            DashboardConfig::from_lookup(lookup(&[
                (AUTHORIZE, "http://id.example/authorize"),
                (TOKEN, "https://id.example/token"),
                (CLIENT, "abc")
            ])),
            Err(DashboardConfigError::NotHttps(AUTHORIZE))
        );
    }

    #[test]
    fn given_a_url_with_quote_or_space_when_origin_then_none() {
        assert_eq!(
            origin("https://a.example/x"),
            Some("https://a.example".into())
        );
        assert_eq!(origin("https://a.example;script-src *"), None);
        assert_eq!(origin("https://a b/"), None);
    }
}
