//! The words of the pages in each language. `{app}`, `{user}` and `{n}` are
//! filled in (escaped) by the pages.

/// A supported page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    De,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "de" => Some(Lang::De),
            _ => None,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }
    /// The language a `lang=` query parameter asks for.
    pub fn from_query(query: &str) -> Option<Lang> {
        serde_urlencoded::from_str::<Vec<(String, String)>>(query)
            .ok()?
            .iter()
            .find(|(k, _)| k == "lang")
            .and_then(|(_, v)| Lang::parse(v))
    }

    /// The first of our languages an `Accept-Language` header names.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        header
            .split(',')
            .filter_map(|item| item.split(';').next())
            .filter_map(|tag| Lang::parse(tag.trim().split('-').next().unwrap_or("")))
            .next()
    }
    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::En => &EN,
            Lang::De => &DE,
        }
    }
}

/// Every sentence the pages show.
pub struct Texts {
    pub authorize_title: &'static str,
    pub authorize_heading: &'static str,
    pub authorize_explain: &'static str,
    pub sign_in_to_allow: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub allow: &'static str,
    pub deny: &'static str,
    pub manage_hint: &'static str,
    pub registered_as: &'static str,
    pub your_apps: &'static str,
    pub wrong_credentials: &'static str,
    pub throttled: &'static str,
    pub inactive: &'static str,
    pub form_expired: &'static str,
    pub authorized_title: &'static str,
    pub authorized_body: &'static str,
    pub denied_title: &'static str,
    pub denied_body: &'static str,
    pub gone_title: &'static str,
    pub gone_body: &'static str,
    pub apps_intro: &'static str,
    pub no_apps: &'static str,
    pub allowed_on: &'static str,
    pub valid_until: &'static str,
    pub revoke: &'static str,
    pub revoked: &'static str,
    pub sign_in: &'static str,
    pub sign_in_intro: &'static str,
    pub sign_out: &'static str,
    pub signed_in_as: &'static str,
    pub app: &'static str,
    pub https_only_title: &'static str,
    pub https_only_body: &'static str,
}

const EN: Texts = Texts {
    authorize_title: "Authorize an app",
    authorize_heading: "{app} wants to use your Panthera account",
    authorize_explain: "If you allow it, the app can read your profile and deposits and act for you until you revoke its access.",
    sign_in_to_allow: "Sign in to allow it",
    username: "Username",
    password: "Password",
    allow: "Allow",
    deny: "Deny",
    manage_hint: "You can revoke access at any time under",
    registered_as: "The request comes from the app registered as “{key}”.",
    your_apps: "Your apps",
    wrong_credentials: "Wrong username or password.",
    throttled: "Too many failed attempts. Please wait {n} seconds and try again.",
    inactive: "This account is not active.",
    form_expired: "The form has expired. Please try again.",
    authorized_title: "Authorized",
    authorized_body: "{app} may now use your account. Please close this window.",
    denied_title: "Access denied",
    denied_body: "{app} gets no access to your account. You can close this window.",
    gone_title: "This request is no longer valid",
    gone_body: "It has expired or was already answered. Please start again in the app.",
    apps_intro: "These apps may use your account. Revoke an app to stop it at once.",
    no_apps: "No app has access to your account.",
    allowed_on: "Allowed on",
    valid_until: "Valid until",
    revoke: "Revoke",
    revoked: "Access revoked.",
    sign_in: "Sign in",
    sign_in_intro: "Sign in to see the apps you allowed.",
    sign_out: "Sign out",
    signed_in_as: "Signed in as {user}",
    app: "App",
    https_only_title: "Please use the secure page",
    https_only_body: "Passwords are accepted only over HTTPS. Nothing was changed. Please continue on the secure page:",
};

const DE: Texts = Texts {
    authorize_title: "App autorisieren",
    authorize_heading: "{app} möchte Ihr Panthera-Konto verwenden",
    authorize_explain: "Wenn Sie zustimmen, kann die App Ihr Profil und Ihr Guthaben lesen und in Ihrem Namen handeln, bis Sie den Zugriff widerrufen.",
    sign_in_to_allow: "Melden Sie sich an, um zuzustimmen",
    username: "Benutzername",
    password: "Passwort",
    allow: "Erlauben",
    deny: "Ablehnen",
    manage_hint: "Sie können den Zugriff jederzeit widerrufen unter",
    registered_as: "Die Anfrage stammt von der als „{key}“ registrierten App.",
    your_apps: "Ihre Apps",
    wrong_credentials: "Benutzername oder Passwort ist falsch.",
    throttled: "Zu viele Fehlversuche. Bitte warten Sie {n} Sekunden und versuchen Sie es erneut.",
    inactive: "Dieses Konto ist nicht aktiv.",
    form_expired: "Das Formular ist abgelaufen. Bitte versuchen Sie es erneut.",
    authorized_title: "Autorisiert",
    authorized_body: "{app} darf Ihr Konto jetzt verwenden. Bitte schließen Sie dieses Fenster.",
    denied_title: "Zugriff abgelehnt",
    denied_body: "{app} erhält keinen Zugriff auf Ihr Konto. Sie können dieses Fenster schließen.",
    gone_title: "Diese Anfrage ist nicht mehr gültig",
    gone_body: "Sie ist abgelaufen oder wurde bereits beantwortet. Bitte beginnen Sie in der App erneut.",
    apps_intro: "Diese Apps dürfen Ihr Konto verwenden. Widerrufen Sie eine App, um sie sofort zu stoppen.",
    no_apps: "Keine App hat Zugriff auf Ihr Konto.",
    allowed_on: "Erlaubt am",
    valid_until: "Gültig bis",
    revoke: "Widerrufen",
    revoked: "Zugriff widerrufen.",
    sign_in: "Anmelden",
    sign_in_intro: "Melden Sie sich an, um die Apps zu sehen, denen Sie Zugriff gewährt haben.",
    sign_out: "Abmelden",
    signed_in_as: "Angemeldet als {user}",
    app: "App",
    https_only_title: "Bitte verwenden Sie die sichere Seite",
    https_only_body: "Passwörter werden nur über HTTPS angenommen. Es wurde nichts geändert. Bitte fahren Sie auf der sicheren Seite fort:",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_from_headers() {
        assert_eq!(
            Lang::from_accept_language("de-DE,de;q=0.9,en;q=0.8"),
            Some(Lang::De)
        );
        assert_eq!(
            Lang::from_accept_language("fr, en-GB;q=0.5"),
            Some(Lang::En)
        );
        assert_eq!(Lang::from_accept_language("fr"), None);
        assert_eq!(Lang::from_query("x=1&lang=de"), Some(Lang::De));
        assert_eq!(Lang::from_query("lang=fr"), None);
    }
}
