//! Dial by name: the caller spells the start of a first or last name on the keypad.

use crate::store::{Store, StoreError};
use switchboard_dsl::Plan;

/// The extensions (in plan order) whose first or last name starts with letters that the
/// keys spell on a phone keypad, among those whose owner recorded a self-ID.
///
/// The first name is the first word of the extension's name and the last name its last
/// word. Only the keypad's letters count: other characters in a name (hyphens,
/// apostrophes) are skipped, and accented Latin letters count as their plain letter, which
/// is how people type them. An extension without a recorded name is not listed, as in the
/// 3CX manual: the directory would have nothing to play for it. No keys match no one, so
/// the directory never reads out the whole office.
pub fn directory_matches(
    plan: &Plan,
    store: &dyn Store,
    keys: &str,
) -> Result<Vec<String>, StoreError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut found = Vec::new();
    for ext in &plan.extensions {
        let Some(name) = &ext.name else { continue };
        let mut words = name.split_whitespace();
        let (Some(first), last) = (words.next(), words.last()) else {
            continue;
        };
        let spells = |word: &str| keypad_digits(word).starts_with(keys);
        if (spells(first) || last.is_some_and(spells))
            && store.name_recording(&ext.number)?.is_some()
        {
            found.push(ext.number.clone());
        }
    }
    Ok(found)
}

/// The keys that spell a word, skipping what is not a letter on the keypad.
fn keypad_digits(word: &str) -> String {
    word.chars().filter_map(key_for).collect()
}

fn key_for(c: char) -> Option<char> {
    let key = match plain_letter(c)? {
        'A'..='C' => '2',
        'D'..='F' => '3',
        'G'..='I' => '4',
        'J'..='L' => '5',
        'M'..='O' => '6',
        'P'..='S' => '7',
        'T'..='V' => '8',
        _ => '9',
    };
    Some(key)
}

/// The upper-case ASCII letter a character is typed as, if any.
fn plain_letter(c: char) -> Option<char> {
    if c.is_ascii_alphabetic() {
        return Some(c.to_ascii_uppercase());
    }
    let plain = match c.to_lowercase().next()? {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'æ' => 'A',
        'ç' => 'C',
        'è' | 'é' | 'ê' | 'ë' => 'E',
        'ì' | 'í' | 'î' | 'ï' => 'I',
        'ñ' => 'N',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => 'O',
        'ß' => 'S',
        'ù' | 'ú' | 'û' | 'ü' => 'U',
        'ý' | 'ÿ' => 'Y',
        _ => return None,
    };
    Some(plain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::office::test_plan;
    use crate::store::MemoryStore;

    const PLAN: &str = r#"
extension 101 "Alice Adams" { voicemail }
extension 102 "Bruno Braun" { voicemail }
extension 103 "Carla de la Cruz" { voicemail }
extension 104 "Zoë O'Brien-Smith" { voicemail }
extension 105 "Amy Zhu" { voicemail }
extension 106 "Reception" { voicemail }
extension 107 { voicemail }
"#;

    /// A store where every extension of the plan recorded its name.
    fn everyone_recorded() -> MemoryStore {
        let mut store = MemoryStore::new();
        for ext in ["101", "102", "103", "104", "105", "106", "107"] {
            store
                .set_name_recording(ext, &format!("name-{ext}.wav"))
                .unwrap();
        }
        store
    }

    #[test]
    fn keypad_maps_every_letter_and_skips_the_rest() {
        assert_eq!(
            keypad_digits("abcdefghijklmnopqrstuvwxyz"),
            "22233344455566677778889999"
        );
        assert_eq!(
            keypad_digits("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
            "22233344455566677778889999"
        );
        assert_eq!(keypad_digits("O'Brien-Smith"), "62743676484");
        assert_eq!(keypad_digits("Zoë"), "963");
        assert_eq!(keypad_digits("Müller"), "685537");
        assert_eq!(keypad_digits("42"), "");
    }

    #[test]
    fn first_or_last_name_matches_in_plan_order() {
        let plan = test_plan(PLAN);
        let store = everyone_recorded();
        let find = |keys| directory_matches(&plan, &store, keys).unwrap();
        // 2 is A/B/C: Alice, Adams, Bruno, Braun, Carla, Amy, and O'Brien-Smith's O is 6.
        assert_eq!(find("2"), ["101", "102", "103", "105"]);
        // 27 spells "Br" and "Cr": Bruno and Braun both match, yet 102 is listed once.
        assert_eq!(find("27"), ["102", "103"]);
        // 2789 is "Cruz", the last word; "de" and "la" in between are not searched.
        assert_eq!(find("2789"), ["103"]);
        assert!(find("33").is_empty());
        // O'Brien-Smith is one word: its apostrophe and hyphen are skipped.
        assert_eq!(find("627436"), ["104"]);
        // Zoë and Zhu: accented letters count as their plain letter.
        assert_eq!(find("96"), ["104"]);
        assert_eq!(find("9"), ["104", "105"]);
        // A single word is both the first and the last name.
        assert_eq!(find("732"), ["106"]);
    }

    #[test]
    fn keys_that_spell_nothing_find_no_one() {
        let plan = test_plan(PLAN);
        let store = everyone_recorded();
        let find = |keys| directory_matches(&plan, &store, keys).unwrap();
        assert!(find("").is_empty());
        assert!(find("1").is_empty());
        assert!(find("0").is_empty());
        assert!(find("25#").is_empty());
        assert!(find("2539").is_empty());
    }

    #[test]
    fn only_extensions_with_a_self_id_are_listed() {
        let plan = test_plan(PLAN);
        let mut store = MemoryStore::new();
        assert!(directory_matches(&plan, &store, "2").unwrap().is_empty());
        store.set_name_recording("102", "bruno.wav").unwrap();
        assert_eq!(directory_matches(&plan, &store, "2").unwrap(), ["102"]);
        // A greeting is not a self-ID.
        store.set_greeting("101", "alice-greeting.wav").unwrap();
        assert_eq!(directory_matches(&plan, &store, "2").unwrap(), ["102"]);
    }
}
