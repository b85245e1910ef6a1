//! Country from IP (`SIGHTLINE_GEOIP_DB`, issue 19 part 1): a MaxMind-format database,
//! written here with the `mmdb-writer` crate and read by Sightline with `maxminddb`,
//! gives events with an IP and no country their country; private, loopback and unknown
//! addresses get none; the file is read again on SIGHUP and when it changes; a broken
//! file never replaces a good one, and at start it is a one-line error. Both databases.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::fixture::now_ms;
use common::{TestDb, TestServer, api};
use serde::Serialize;
use serde_json::{Value, json};
use sightline::store::Scope;

#[derive(Serialize)]
struct Country {
    iso_code: String,
    names: BTreeMap<String, String>,
}

/// A GeoLite2-Country-shaped record.
#[derive(Serialize)]
struct Record {
    country: Country,
    registered_country: Country,
}

fn country(code: &str) -> Country {
    Country {
        iso_code: code.into(),
        names: [("en".to_string(), format!("Country {code}"))].into(),
    }
}

/// Writes a country database of `networks` to `path` (via a temporary file and a
/// rename, as a download script would).
fn write_db(path: &Path, networks: &[(&str, &str)]) {
    let mut writer = mmdb_writer::Writer::new("GeoLite2-Country");
    for (net, code) in networks {
        let record = Record {
            country: country(code),
            registered_country: country(code),
        };
        let net: mmdb_writer::ipnet::IpNet = net.parse().unwrap();
        writer.insert(net, &record).unwrap();
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, writer.to_bytes().unwrap()).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn request(id: &str, ip: Option<&str>, country: Option<&str>) -> Value {
    let mut r = json!({
        "request_id": id, "timestamp": now_ms() - 1_000, "endpoint": "/v1/chat/completions",
        "method": "POST", "status_code": 200, "latency_ms": 80.0,
    });
    if let Some(ip) = ip {
        r["ip"] = json!(ip);
    }
    if let Some(c) = country {
        r["country"] = json!(c);
    }
    r
}

async fn stored_country(db: &TestDb, request_id: &str) -> Option<String> {
    let mut conn = db.connection().await;
    sqlx::query_scalar("SELECT country FROM request_log WHERE request_id = $1")
        .bind(request_id)
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

/// Ingests one request from 81.2.69.142 after another until its country is `want`
/// (at most `secs` seconds).
async fn until_country(server: &TestServer, key: &str, db: &TestDb, want: &str, secs: u64) {
    let mut last = None;
    for i in 0..secs * 5 {
        let id = format!("probe-{want}-{}-{i}", now_ms());
        let reply = api::ingest(
            server,
            key,
            &json!({ "requests": [request(&id, Some("81.2.69.142"), None)] }),
        )
        .await;
        assert_eq!(reply["accepted"], 1, "{reply}");
        last = stored_country(db, &id).await;
        if last.as_deref() == Some(want) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("81.2.69.142 still {last:?} after {secs} s, not {want}");
}

const NETWORKS: [(&str, &str); 4] = [
    ("81.2.69.0/24", "GB"),
    ("89.160.20.0/24", "SE"),
    ("2001:218::/32", "JP"),
    // A database entry for private space is never used.
    ("10.0.0.0/8", "XX"),
];

storage_test!(
    countries_come_from_the_database_and_follow_its_file,
    |db| async move {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("GeoLite2-Country.mmdb");
        write_db(&path, &NETWORKS);
        let server = TestServer::start_with(
            &db.url,
            &[
                ("SIGHTLINE_GEOIP_DB", path.to_str().unwrap()),
                // Geography reads the full address; the stored one is truncated.
                ("SIGHTLINE_IP_ANONYMIZE", "truncate"),
            ],
        );
        let key = db
            .store
            .create_api_key("geo", &[Scope::Ingest, Scope::Read], None, 0)
            .await
            .unwrap()
            .1;
        let mut sqli = request("sqli", Some("89.160.20.112"), None);
        sqli["query"] = json!("id=1'%20OR%20'1'%3D'1");
        let requests = vec![
            request("gb", Some("81.2.69.142"), None),
            request("given", Some("81.2.69.142"), Some("de")),
            request("jp", Some("2001:218::7"), None),
            request("private", Some("10.1.2.3"), None),
            request("loopback", Some("127.0.0.1"), None),
            request("unknown", Some("8.8.8.8"), None),
            request("no-ip", None, None),
            sqli,
        ];
        let reply = api::ingest(&server, &key, &json!({ "requests": requests })).await;
        assert_eq!(reply["accepted"], 8, "{reply}");
        for (id, want) in [
            ("gb", Some("GB")),
            ("given", Some("DE")),
            ("jp", Some("JP")),
            ("private", None),
            ("loopback", None),
            ("unknown", None),
            ("no-ip", None),
            ("sqli", Some("SE")),
        ] {
            assert_eq!(stored_country(db, id).await.as_deref(), want, "{id}");
        }
        // The threat detection raised has the country too.
        let mut found = None;
        for _ in 0..100 {
            let mut conn = db.connection().await;
            found = sqlx::query_scalar::<_, Option<String>>(
                "SELECT country FROM threat_log WHERE threat_type = 'sql_injection'",
            )
            .fetch_optional(&mut conn)
            .await
            .unwrap();
            if found.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(found, Some(Some("SE".to_string())));

        // SIGHUP reads the file again.
        write_db(&path, &[("81.2.69.0/24", "FR")]);
        let hup = Command::new("kill")
            .args(["-HUP", &server.pid().to_string()])
            .status()
            .unwrap();
        assert!(hup.success());
        until_country(&server, &key, db, "FR", 10).await;

        // A changed file is noticed without a signal.
        write_db(&path, &[("81.2.69.0/24", "IE")]);
        until_country(&server, &key, db, "IE", 20).await;

        // A broken file leaves the database in use as it was.
        std::fs::write(&path, b"not a MaxMind database").unwrap();
        Command::new("kill")
            .args(["-HUP", &server.pid().to_string()])
            .status()
            .unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        until_country(&server, &key, db, "IE", 1).await;
        drop(server);
    }
);

#[test]
fn a_broken_database_file_stops_the_start_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.mmdb");
    std::fs::write(&path, b"not a MaxMind database").unwrap();
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    let out = Command::new(env!("CARGO_BIN_EXE_sightline"))
        .arg("serve")
        .env("SIGHTLINE_ADDR", "127.0.0.1:0")
        .env("SIGHTLINE_DATABASE_URL", &url)
        .env("SIGHTLINE_GEOIP_DB", &path)
        .output()
        .expect("sightline runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(&format!(
            "sightline: SIGHTLINE_GEOIP_DB `{}`: ",
            path.display()
        )),
        "{stderr}"
    );
}
