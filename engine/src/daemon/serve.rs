//! Serving the API on the unix socket: HTTP/1.1 connections with upgrades (attach and exec
//! hijack theirs), a bound on how long a request's headers may take to arrive (a client that
//! opens connections and sends nothing, or a byte a minute, holds no task for long), and a
//! graceful end: on shutdown every connection finishes its request under way and closes.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::UnixListener;
use tokio::sync::watch;

/// Serve `service` on `listener` until `shutdown` resolves, then let the open connections finish
/// their requests; returns once all have closed.
pub async fn serve<S>(
    listener: UnixListener,
    service: S,
    header_timeout: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let (stop_tx, stop_rx) = watch::channel(false);
    // Each connection task holds a clone; `closed()` resolves once every clone is dropped.
    let (open_tx, open_rx) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of descriptors, say: wait a moment rather than spin, and go on.
                    tracing::warn!("cannot accept an API connection: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service =
            TowerToHyperService::new(tower::util::MapRequest::new(service.clone(), |req: Request<Incoming>| {
                req.map(Body::new)
            }));
        let mut stop = stop_rx.clone();
        let open = open_rx.clone();
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(header_timeout);
            let conn = builder.serve_connection(TokioIo::new(stream), service).with_upgrades();
            let mut conn = std::pin::pin!(conn);
            let result = tokio::select! {
                result = conn.as_mut() => result,
                _ = async { stop.wait_for(|stopping| *stopping).await.is_ok() } => {
                    conn.as_mut().graceful_shutdown();
                    conn.as_mut().await
                }
            };
            if let Err(e) = result {
                tracing::debug!("API connection: {e}");
            }
            drop(open);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(open_rx);
    open_tx.closed().await;
    Ok(())
}
