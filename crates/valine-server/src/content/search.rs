//! Turning a user's search text into a safe full-text query for each backend.

use valine_store::Backend;

/// Lower-cased alphanumeric words of `text` (at most 8): everything else is a separator,
/// so no query syntax of either backend can be injected.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .take(8)
        .collect()
}

/// Every word must match, as a prefix ("thea" finds "theatre").
pub fn fulltext_query(backend: Backend, words: &[String]) -> String {
    match backend {
        Backend::Sqlite => words
            .iter()
            .map(|w| format!("\"{w}\"*"))
            .collect::<Vec<_>>()
            .join(" AND "),
        Backend::Postgres => words
            .iter()
            .map(|w| format!("{w}:*"))
            .collect::<Vec<_>>()
            .join(" & "),
    }
}

/// A filter term (role, location): lower-cased, with LIKE wildcards removed.
pub fn filter_term(text: &str) -> String {
    text.trim()
        .to_lowercase()
        .chars()
        .filter(|c| !matches!(c, '%' | '_' | '|' | '\\'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_sanitised() {
        let w = words("Noir\"* OR 1=1; DROP -- théâtre");
        assert_eq!(w, ["noir", "or", "1", "1", "drop", "théâtre"]);
        assert_eq!(fulltext_query(Backend::Sqlite, &w[..1]), "\"noir\"*");
        assert_eq!(fulltext_query(Backend::Postgres, &w[..2]), "noir:* & or:*");
        assert_eq!(filter_term(" Act%or_ "), "actor");
    }
}
