//! The transactional messages, each with a text and an HTML part.

/// Escapes text for HTML bodies (names come from users).
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

fn render(
    subject: &str,
    greeting_name: &str,
    lead: &str,
    link: &str,
    action: &str,
    foot: &str,
) -> Rendered {
    let text = format!("Hi {greeting_name},\n\n{lead}\n\n{link}\n\n{foot}\n\n— Valine\n");
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\">\
         <p>Hi {name},</p><p>{lead}</p>\
         <p><a href=\"{href}\">{action}</a></p>\
         <p style=\"color:#666\">If the button does not work, paste this link into your browser:<br>{href}</p>\
         <p style=\"color:#666\">{foot}</p><p>— Valine</p></body></html>",
        name = esc(greeting_name),
        lead = esc(lead),
        href = esc(link),
        action = esc(action),
        foot = esc(foot),
    );
    Rendered {
        subject: subject.to_string(),
        text,
        html,
    }
}

/// `FRONTEND_URL/verify-email?token=…`
pub fn verification(frontend_url: &str, display_name: &str, token: &str) -> Rendered {
    let link = format!("{frontend_url}/verify-email?token={token}");
    render(
        "Verify your email address",
        display_name,
        "Please confirm your email address to finish setting up your Valine account.",
        &link,
        "Verify email",
        "The link is valid for 24 hours. If you did not create an account, ignore this message.",
    )
}

/// `FRONTEND_URL/reset-password?token=…`
pub fn password_reset(frontend_url: &str, display_name: &str, token: &str) -> Rendered {
    let link = format!("{frontend_url}/reset-password?token={token}");
    render(
        "Reset your password",
        display_name,
        "Someone asked to reset the password of your Valine account.",
        &link,
        "Choose a new password",
        "The link is valid for 30 minutes and works once. If it was not you, ignore this message; your password stays the same.",
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn links_and_escaping() {
        let r = super::verification("https://app.test", "<Bob & Co>", "TOKEN123");
        assert!(
            r.text
                .contains("https://app.test/verify-email?token=TOKEN123")
        );
        assert!(
            r.html
                .contains("https://app.test/verify-email?token=TOKEN123")
        );
        assert!(r.html.contains("&lt;Bob &amp; Co&gt;"));
        assert!(!r.html.contains("<Bob"));
        let r = super::password_reset("https://app.test", "Bob", "T2");
        assert!(r.text.contains("https://app.test/reset-password?token=T2"));
    }
}
