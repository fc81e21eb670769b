//! Headless Chromium through ChromeDriver, both from Debian's packages (`scripts/dev-browser.sh`
//! installs them), driven with `fantoccini` (a maintained WebDriver client). Every page it opens
//! can reach 127.0.0.1 only: any other host does not resolve.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// How long a step waits for the page to get there (generous: Chromium renders slowly on a
/// loaded two-core machine).
const WAIT: Duration = Duration::from_secs(45);

pub struct Driver {
    process: Child,
    base: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn program(env: &str, default: &str) -> String {
    std::env::var(env).unwrap_or_else(|_| default.to_owned())
}

impl Driver {
    /// Starts ChromeDriver on a free port; panics with what to do when it is not installed.
    pub async fn start() -> Driver {
        let path = program("CHROMEDRIVER", "/usr/bin/chromedriver");
        assert!(
            std::path::Path::new(&path).exists(),
            "{path} is missing: scripts/dev-browser.sh installs Chromium and ChromeDriver"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let process = Command::new(path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let driver = Driver { process, base: format!("http://127.0.0.1:{port}") };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(reply) = http.get(format!("{}/status", driver.base)).send().await
                && reply.status().is_success()
            {
                return driver;
            }
            assert!(Instant::now() < deadline, "chromedriver did not come up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A new browser with a profile of its own (so two browsers are two separate visitors).
    pub async fn browser(&self) -> Browser {
        let profile = std::env::temp_dir().join(format!("talktime-chrome-{}", uuid::Uuid::now_v7()));
        let mut args: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,1100",
            // Nothing but the server under test: every other host fails to resolve.
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        ]
        .iter()
        .map(|a| (*a).to_owned())
        .collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": program("CHROMIUM", "/usr/bin/chromium"), "args": args },
        });
        let Value::Object(capabilities) = capabilities else { unreachable!() };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.base)
            .await
            .unwrap_or_else(|error| panic!("no browser session: {error}"));
        Browser { client }
    }
}

pub struct Browser {
    client: Client,
}

impl Browser {
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    /// The first element matching `css`, once there is one.
    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        let found = self.client.wait().at_most(WAIT).every(Duration::from_millis(50)).for_element(Locator::Css(css));
        found.await.unwrap_or_else(|error| panic!("no `{css}` on the page: {error}"))
    }

    pub async fn click(&self, css: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.find(css).await.click().await {
                Ok(()) => return,
                Err(error) if Instant::now() < deadline && is_stale(&error) => continue,
                Err(error) => panic!("cannot click `{css}`: {error}"),
            }
        }
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// The text of `css`; an element the page replaced between finding and reading (a render)
    /// is found again.
    pub async fn text(&self, css: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.find(css).await.text().await {
                Ok(text) => return text,
                Err(error) if Instant::now() < deadline && is_stale(&error) => continue,
                Err(error) => panic!("cannot read `{css}`: {error}"),
            }
        }
    }

    /// Waits until `css`'s text satisfies `check`; answers it.
    pub async fn wait_text(&self, css: &str, what: &str, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let text = self.text(css).await;
            if check(&text) {
                return text;
            }
            assert!(Instant::now() < deadline, "`{css}` never showed {what} (it shows {text:?})");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs `script` in the page (`return …` answers a value).
    pub async fn execute(&self, script: &str) -> Value {
        self.client.execute(script, Vec::new()).await.unwrap()
    }

    pub async fn screenshot(&self, path: &std::path::Path) {
        let png = self.client.screenshot().await.unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }

    pub async fn quit(self) {
        self.client.close().await.unwrap();
    }
}

/// The element was replaced by the page since it was found.
fn is_stale(error: &fantoccini::error::CmdError) -> bool {
    matches!(error, fantoccini::error::CmdError::Standard(e) if e.error == fantoccini::error::ErrorStatus::StaleElementReference)
}
