//! "Did you mean ...?" for misspelt names.

/// The closest candidate to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let word_lower = word.to_ascii_lowercase();
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| {
            (
                strsim::damerau_levenshtein(&word_lower, &c.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, c)| (d, c.len(), c))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn finds_close_names_only() {
        let names = ["main_menu", "voicemail_main", "after_hours"];
        assert_eq!(did_you_mean("main_menue", names), Some("main_menu"));
        assert_eq!(did_you_mean("aftr_hours", names), Some("after_hours"));
        assert_eq!(did_you_mean("zzz", names), None);
        assert_eq!(did_you_mean("main_menu", names), None);
    }
}
