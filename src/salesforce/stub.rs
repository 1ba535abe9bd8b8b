//! A tiny HTTP/1.1 server on 127.0.0.1:0 for unit tests: records every request and answers
//! with whatever the test's handler says, including cutting the connection.
//!
//! Hand-written rather than axum so a test can drop a connection mid-request, which is the
//! fault the retry policy must survive.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// A request as the stub received it.
#[derive(Clone, Debug)]
pub(crate) struct Received {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// How many earlier requests had the same method and path.
    pub repeat: usize,
}

impl Received {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The URL-decoded query or form-body pairs.
    pub(super) fn pairs(text: &str) -> Vec<(String, String)> {
        url::form_urlencoded::parse(text.as_bytes())
            .into_owned()
            .collect()
    }

    pub(super) fn form(&self) -> Vec<(String, String)> {
        Self::pairs(&String::from_utf8_lossy(&self.body))
    }

    pub(super) fn query_pairs(&self) -> Vec<(String, String)> {
        Self::pairs(self.query.as_deref().unwrap_or(""))
    }

    /// `http://host:port` this request was sent to.
    pub(super) fn origin(&self) -> String {
        format!("http://{}", self.header("host").unwrap_or(""))
    }
}

/// The stub's answer.
pub(crate) enum Reply {
    Http {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Close the connection without answering.
    Cut,
    /// Send a 200 that announces more body than it sends, then close.
    CutBody { sent: Vec<u8> },
}

impl Reply {
    pub(super) fn json(status: u16, body: impl Into<String>) -> Reply {
        Reply::Http {
            status,
            headers: vec![(
                "Content-Type".into(),
                "application/json;charset=UTF-8".into(),
            )],
            body: body.into().into_bytes(),
        }
    }

    pub(super) fn empty(status: u16) -> Reply {
        Reply::Http {
            status,
            headers: vec![],
            body: vec![],
        }
    }

    pub(super) fn with_header(mut self, name: &str, value: &str) -> Reply {
        if let Reply::Http { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }
}

type Handler = dyn Fn(&Received) -> Reply + Send + Sync;

pub(crate) struct Stub {
    /// `http://127.0.0.1:port`
    pub base: String,
    received: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Stub {
    pub(super) async fn start(
        handler: impl Fn(&Received) -> Reply + Send + Sync + 'static,
    ) -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let log = received.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let handler = handler.clone();
                let log = log.clone();
                tokio::spawn(async move {
                    let _ = serve(socket, handler, log).await;
                });
            }
        });
        Stub {
            base,
            received,
            task,
        }
    }

    pub(super) fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Requests whose path ends with `suffix`.
    pub(super) fn received_at(&self, suffix: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.path.ends_with(suffix))
            .collect()
    }

    /// The methods of the requests whose path ends with `suffix`, in order.
    pub(super) fn methods_at(&self, suffix: &str) -> Vec<String> {
        self.received_at(suffix)
            .into_iter()
            .map(|r| r.method)
            .collect()
    }
}

async fn serve(
    socket: TcpStream,
    handler: Arc<Handler>,
    log: Arc<Mutex<Vec<Received>>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(socket);
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (target.clone(), None),
    };
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).await?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).await?;
            let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).await?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(length) = find("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.resize(length, 0);
        reader.read_exact(&mut body).await?;
    }
    let request = {
        let mut log = log.lock().unwrap();
        let repeat = log
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .count();
        let request = Received {
            method,
            path,
            query,
            headers,
            body,
            repeat,
        };
        log.push(request.clone());
        request
    };
    match handler(&request) {
        Reply::Cut => Ok(()),
        Reply::CutBody { sent } => {
            let head = format!(
                "HTTP/1.1 200 Stub\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                sent.len() + 100
            );
            let mut socket = reader.into_inner();
            socket.write_all(head.as_bytes()).await?;
            socket.write_all(&sent).await?;
            socket.shutdown().await
        }
        Reply::Http {
            status,
            headers,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status} Stub\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            let mut socket = reader.into_inner();
            socket.write_all(head.as_bytes()).await?;
            socket.write_all(&body).await?;
            socket.shutdown().await
        }
    }
}
