//! Masks personal data in customers' free text before it is shown: e-mail addresses become
//! `[email]`, phone numbers `[phone]`. It errs on the side of masking (a long order number may
//! be masked too); it does not escape HTML, which the template's auto-escaping does.

/// The comment with e-mail addresses and phone numbers masked.
pub fn mask(text: &str) -> String {
    mask_phones(&mask_emails(text))
}

fn is_local(c: char) -> bool {
    c.is_alphanumeric() || "._%+-'".contains(c)
}

fn is_domain(c: char) -> bool {
    c.is_alphanumeric() || c == '.' || c == '-'
}

pub fn mask_emails(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i < chars.len() {
        if chars[i] == '@' {
            let mut start = i;
            while start > copied && is_local(chars[start - 1]) {
                start -= 1;
            }
            let mut end = i + 1;
            while end < chars.len() && is_domain(chars[end]) {
                end += 1;
            }
            while end > i + 1 && matches!(chars[end - 1], '.' | '-') {
                end -= 1;
            }
            let domain: String = chars[i + 1..end].iter().collect();
            let tld_ok = domain.rsplit_once('.').is_some_and(|(host, tld)| {
                !host.is_empty() && tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic)
            });
            if start < i && tld_ok {
                out.extend(&chars[copied..start]);
                out.push_str("[email]");
                copied = end;
                i = end;
                continue;
            }
        }
        i += 1;
    }
    out.extend(&chars[copied.min(chars.len())..]);
    out
}

fn is_phone_char(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '/' | '(' | ')' | '\u{a0}')
}

/// 2026-11-22, 22.11.2026, 11/22/26: dates, not phone numbers.
fn looks_like_date(candidate: &str) -> bool {
    for sep in ['-', '.', '/'] {
        let parts: Vec<&str> = candidate.split(sep).collect();
        if parts.len() == 3 && parts.iter().all(|p| p.chars().all(|c| c.is_ascii_digit())) {
            let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
            let year_first =
                lens[0] == 4 && (1..=2).contains(&lens[1]) && (1..=2).contains(&lens[2]);
            let year_last = (1..=2).contains(&lens[0])
                && (1..=2).contains(&lens[1])
                && (lens[2] == 2 || lens[2] == 4);
            if year_first || year_last {
                return true;
            }
        }
    }
    false
}

pub fn mask_phones(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let after_word = i > 0 && chars[i - 1].is_alphanumeric();
        let starts = !after_word
            && (c.is_ascii_digit()
                || (matches!(c, '+' | '(')
                    && chars
                        .get(i + 1)
                        .is_some_and(|n| n.is_ascii_digit() || *n == '(')));
        if starts {
            let mut end = i + 1;
            while end < chars.len() && is_phone_char(chars[end]) {
                end += 1;
            }
            // Trailing separators belong to the sentence, not the number.
            while end > i + 1 && !chars[end - 1].is_ascii_digit() && chars[end - 1] != ')' {
                end -= 1;
            }
            let candidate: String = chars[i..end].iter().collect();
            let digits = candidate.chars().filter(char::is_ascii_digit).count();
            let glued_to_word = chars.get(end).is_some_and(|n| n.is_alphanumeric());
            if (7..=15).contains(&digits) && !glued_to_word && !looks_like_date(&candidate) {
                out.push_str("[phone]");
                i = end;
                continue;
            }
            // Not a phone number: copy the run of digits as it is.
            out.extend(&chars[i..end]);
            i = end;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_email_addresses() {
        assert_eq!(
            mask("write to jane.doe+cx@example.co.uk, please."),
            "write to [email], please."
        );
        assert_eq!(mask("Mail: A_B@mail-server.de"), "Mail: [email]");
        assert_eq!(mask("meet @ noon"), "meet @ noon");
        assert_eq!(mask("user@localhost"), "user@localhost");
        assert_eq!(mask("x@y.z1"), "x@y.z1");
    }

    #[test]
    fn masks_phone_numbers_in_common_shapes() {
        assert_eq!(mask("call +49 30 1234567 now"), "call [phone] now");
        assert_eq!(mask("call (555) 123-4567."), "call [phone].");
        assert_eq!(mask("0176/98765432"), "[phone]");
        assert_eq!(mask("tel 030-123 45 67, thanks"), "tel [phone], thanks");
    }

    #[test]
    fn leaves_ordinary_numbers_and_dates_alone() {
        assert_eq!(
            mask("waited 45 minutes for 2 items"),
            "waited 45 minutes for 2 items"
        );
        assert_eq!(mask("ordered on 2026-11-22"), "ordered on 2026-11-22");
        assert_eq!(mask("am 22.11.2026 bestellt"), "am 22.11.2026 bestellt");
        assert_eq!(mask("paid 1,299.00 EUR"), "paid 1,299.00 EUR");
        assert_eq!(mask("SKU AB1234567"), "SKU AB1234567");
        assert_eq!(mask(""), "");
        assert_eq!(
            mask("<script>alert(1)</script>"),
            "<script>alert(1)</script>"
        );
    }
}
