//! The language a response speaks: Korean by default, English when the client prefers it.
//! The HTTP layer scopes each request in a task-local so error messages can be localized
//! wherever the error is turned into a response.

use axum::http::HeaderMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Ko,
    En,
}

tokio::task_local! {
    static REQUEST_LANG: Lang;
}

impl Lang {
    /// Picks the best of Korean and English from `Accept-Language` (q-values honoured).
    pub fn from_headers(headers: &HeaderMap) -> Lang {
        let Some(value) = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
        else {
            return Lang::Ko;
        };
        let mut best: Option<(f32, Lang)> = None;
        for part in value.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let lang = if tag == "ko" || tag.starts_with("ko-") {
                Lang::Ko
            } else if tag == "en" || tag.starts_with("en-") {
                Lang::En
            } else {
                continue;
            };
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map_or(Lang::Ko, |(_, l)| l)
    }

    /// The language of the request being served (Korean outside a request).
    pub fn current() -> Lang {
        REQUEST_LANG.try_with(|l| *l).unwrap_or_default()
    }

    /// Runs `fut` with `self` as the request language.
    pub async fn scope<F: Future>(self, fut: F) -> F::Output {
        REQUEST_LANG.scope(self, fut).await
    }

    pub fn pick(self, ko: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Ko => ko,
            Lang::En => en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lang(value: &str) -> Lang {
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::ACCEPT_LANGUAGE,
            value.parse().expect("valid header"),
        );
        Lang::from_headers(&headers)
    }

    #[test]
    fn korean_unless_english_is_preferred() {
        assert_eq!(lang("en"), Lang::En);
        assert_eq!(lang("en-US,en;q=0.9"), Lang::En);
        assert_eq!(lang("ko-KR,ko;q=0.9,en;q=0.8"), Lang::Ko);
        assert_eq!(lang("fr, en;q=0.5"), Lang::En);
        assert_eq!(lang("fr"), Lang::Ko);
        assert_eq!(lang("en;q=0.2, ko;q=0.9"), Lang::Ko);
        assert_eq!(lang("garbage;;;q=x"), Lang::Ko);
    }
}
