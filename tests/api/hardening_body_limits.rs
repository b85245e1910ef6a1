//! Hardening: every route has a request body limit, answered 413 as soon as it is
//! passed (issue 15, item 3). Leptos' server functions had none: an anonymous POST
//! to `/api/ui/login` was read whole into memory. Server functions and the read APIs
//! take 64 KiB, ingest and the gateway 10 MiB, OTLP 20 MiB, each configurable; a body
//! announced larger is refused unread, and a chunked one (no length) at its first
//! byte over the limit.

use crate::common;

use std::time::Duration;

use common::mock_provider::MockProvider;
use common::{Backend, TestDb, TestServer};
use sightline::store::Scope;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MIB: usize = 1024 * 1024;

/// How the body goes: with its length announced, or chunked without one.
#[derive(Clone, Copy, Debug)]
enum Framing {
    Announced,
    Chunked,
}

/// Sends `POST path` with `headers` and a body of `size` bytes of `x`, `framing`
/// as said, on a raw connection (the server may answer and hang up before taking it
/// all); the status of the answer and its body.
async fn post(
    server: &TestServer,
    path: &str,
    headers: &[(&str, &str)],
    size: usize,
    framing: Framing,
) -> (u16, String) {
    let addr = server.base_url.trim_start_matches("http://").to_owned();
    let tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let (mut read, mut write) = tcp.into_split();
    let mut head = format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    match framing {
        Framing::Announced => head.push_str(&format!("Content-Length: {size}\r\n\r\n")),
        Framing::Chunked => head.push_str("Transfer-Encoding: chunked\r\n\r\n"),
    }
    let sender = tokio::spawn(async move {
        write.write_all(head.as_bytes()).await?;
        let piece = vec![b'x'; 16 * 1024];
        let mut sent = 0;
        while sent < size {
            let n = piece.len().min(size - sent);
            match framing {
                Framing::Announced => write.write_all(&piece[..n]).await?,
                Framing::Chunked => {
                    write.write_all(format!("{n:x}\r\n").as_bytes()).await?;
                    write.write_all(&piece[..n]).await?;
                    write.write_all(b"\r\n").await?;
                }
            }
            sent += n;
        }
        if let Framing::Chunked = framing {
            write.write_all(b"0\r\n\r\n").await?;
        }
        // Held open until the answer is read.
        tokio::time::sleep(Duration::from_secs(30)).await;
        Ok::<_, std::io::Error>(())
    });
    let mut answer = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let complete = |a: &[u8]| {
        let text = String::from_utf8_lossy(a);
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            return false;
        };
        let length = head.lines().find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap())
        });
        length.is_some_and(|n| body.len() >= n)
    };
    while !complete(&answer) {
        let n = tokio::time::timeout(Duration::from_secs(60), read.read(&mut buf))
            .await
            .expect("an answer within 60 s")
            .unwrap();
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
    }
    sender.abort();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_area_refuses_a_body_over_its_limit_with_413() {
    let db = TestDb::new(Backend::Sqlite).await;
    let mock = MockProvider::start().await;
    let upstreams = format!("openai={}", mock.base_url);
    let server = TestServer::start_with(
        &db.url,
        &[
            ("SIGHTLINE_MAX_BODY_BYTES", "1048576"),
            ("SIGHTLINE_OTLP_MAX_BODY_BYTES", "2097152"),
            ("SIGHTLINE_PROXY_MAX_BODY_BYTES", "1048576"),
            ("SIGHTLINE_PROXY_UPSTREAMS", upstreams.as_str()),
        ],
    );
    let ingest = common::api::key(&db, &[Scope::Ingest]).await;
    let read = common::api::key(&db, &[Scope::Read]).await;
    let bearer_ingest = format!("Bearer {ingest}");
    let bearer_read = format!("Bearer {read}");
    let form = [("content-type", "application/x-www-form-urlencoded")];
    fn json(auth: &str) -> [(&'static str, &str); 2] {
        [
            ("content-type", "application/json"),
            ("authorization", auth),
        ]
    }

    for framing in [Framing::Announced, Framing::Chunked] {
        // Anonymous sign-in: 64 KiB.
        let (status, body) = post(&server, "/api/ui/login", &form, 64 * 1024 + 1, framing).await;
        assert_eq!(status, 413, "{framing:?} sign-in: {body}");
        assert_eq!(common::api::error_of(&body), "body larger than 64 KiB");
        // Another server function, signed in or not.
        let (status, _) = post(&server, "/api/ui/dashboard", &form, 100 * 1024, framing).await;
        assert_eq!(status, 413, "{framing:?} server function");
        // A read API takes no more.
        let (status, _) = post(
            &server,
            "/api/v1/alerts",
            &json(&bearer_read),
            100 * 1024,
            framing,
        )
        .await;
        assert_eq!(status, 413, "{framing:?} read API");

        // Ingest: as configured, 1 MiB.
        let (status, body) = post(
            &server,
            "/api/v1/ingest",
            &json(&bearer_ingest),
            MIB + 1,
            framing,
        )
        .await;
        assert_eq!(status, 413, "{framing:?} ingest: {body}");
        assert_eq!(common::api::error_of(&body), "body larger than 1 MiB");
        let (status, _) = post(
            &server,
            "/api/v1/feedback",
            &json(&bearer_ingest),
            MIB + 1,
            framing,
        )
        .await;
        assert_eq!(status, 413, "{framing:?} feedback");

        // OTLP: 2 MiB, refused as an OTLP Status.
        let (status, body) = post(
            &server,
            "/v1/traces",
            &json(&bearer_ingest),
            2 * MIB + 1,
            framing,
        )
        .await;
        assert_eq!(status, 413, "{framing:?} OTLP: {body}");
        let rpc: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(rpc["code"], 8, "{body}");
        assert_eq!(rpc["message"], "body larger than 2 MiB");

        // The gateway: 1 MiB.
        let key = [
            ("content-type", "application/json"),
            ("sightline-key", ingest.as_str()),
        ];
        let (status, body) = post(
            &server,
            "/proxy/openai/v1/chat/completions",
            &key,
            MIB + 1,
            framing,
        )
        .await;
        assert_eq!(status, 413, "{framing:?} gateway: {body}");
    }

    // Within the limits, bodies are read as before (here refused for what they say).
    let (status, body) = post(
        &server,
        "/api/v1/ingest",
        &json(&bearer_ingest),
        MIB,
        Framing::Chunked,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = post(&server, "/api/ui/login", &form, 1024, Framing::Chunked).await;
    assert_ne!(status, 413, "{body}");
    drop(server);
    db.drop_database().await;
}
