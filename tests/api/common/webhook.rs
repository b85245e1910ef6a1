//! A webhook receiver on loopback, for the alerts', budgets' and digests' webhooks.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use serde_json::Value;
use tokio::sync::{Notify, mpsc};

/// A webhook receiver on loopback: keeps every body it gets; with `hang`, never answers.
pub struct Receiver {
    pub url: String,
    pub bodies: Arc<Mutex<Vec<Value>>>,
    pub arrived: mpsc::UnboundedReceiver<()>,
}

#[derive(Clone)]
struct Hook {
    bodies: Arc<Mutex<Vec<Value>>>,
    arrived: mpsc::UnboundedSender<()>,
    hang: bool,
    release: Arc<Notify>,
}

async fn hook(State(h): State<Hook>, body: axum::Json<Value>) -> &'static str {
    h.bodies.lock().unwrap().push(body.0);
    let _ = h.arrived.send(());
    if h.hang {
        h.release.notified().await;
    }
    "ok"
}

pub async fn receiver(hang: bool) -> (Receiver, Arc<Notify>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = mpsc::unbounded_channel();
    let release = Arc::new(Notify::new());
    let app = Router::new()
        .route("/hook/secret-path", post(hook))
        .with_state(Hook {
            bodies: bodies.clone(),
            arrived: tx,
            hang,
            release: release.clone(),
        });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (
        Receiver {
            url: format!("http://{addr}/hook/secret-path"),
            bodies,
            arrived: rx,
        },
        release,
    )
}

impl Receiver {
    /// Every body received so far.
    pub fn received(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }
}
