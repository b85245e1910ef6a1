//! Country from IP (`SIGHTLINE_GEOIP_DB`): a MaxMind-format database (GeoLite2 or
//! GeoIP2 Country or City, DB-IP's lite country database), read with the `maxminddb`
//! crate. An event that gives an IP and no country gets the country of its public
//! address; private, loopback, link-local, documentation and unknown addresses get none.
//! The file is read again on SIGHUP and when it changes on disk; a file that cannot be
//! read then leaves the database in use as it was.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use maxminddb::Reader;
use serde::Deserialize;

use crate::store::IngestWrite;

/// How often the file is checked for a change.
const CHECK_EVERY: Duration = Duration::from_secs(5);

/// Why a database could not be used.
#[derive(Debug, thiserror::Error)]
#[error("SIGHTLINE_GEOIP_DB `{path}`: {reason}")]
pub struct GeoError {
    path: String,
    reason: String,
}

/// The country database in use; cheap to share.
pub struct GeoIp {
    path: PathBuf,
    current: RwLock<Arc<Reader<Vec<u8>>>>,
    /// The file's modification time and length when it was last read, whether or not
    /// it could be used (a broken file is tried again once it changes, not every check).
    seen: Mutex<Option<Stamp>>,
}

type Stamp = (SystemTime, u64);

/// The parts of a country or city record that name a country.
#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow)]
    country: Option<Country<'a>>,
    #[serde(borrow)]
    registered_country: Option<Country<'a>>,
}

#[derive(Deserialize)]
struct Country<'a> {
    iso_code: Option<&'a str>,
}

fn stamp(path: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

fn open(path: &Path) -> Result<Reader<Vec<u8>>, GeoError> {
    let error = |reason: String| GeoError {
        path: path.display().to_string(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| error(e.to_string()))?;
    Reader::from_source(bytes).map_err(|e| error(e.to_string()))
}

/// Whether an address can have a country: not private, loopback, link-local,
/// unspecified, multicast, shared (100.64/10), benchmarking or documentation space.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || (a == 192 && b == 0 && c == 0)
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || (first == 0x2001 && v6.segments()[1] == 0x0db8)) // documentation
        }
    }
}

impl GeoIp {
    /// Opens the database at `path`; an unreadable or malformed file is an error.
    pub fn open(path: impl Into<PathBuf>) -> Result<Arc<GeoIp>, GeoError> {
        let path = path.into();
        let seen = stamp(&path);
        let reader = open(&path)?;
        Ok(Arc::new(GeoIp {
            path,
            current: RwLock::new(Arc::new(reader)),
            seen: Mutex::new(seen),
        }))
    }

    /// The ISO 3166-1 alpha-2 code of `ip`'s country, if the database knows one.
    pub fn country(&self, ip: &str) -> Option<String> {
        let ip = match ip.trim().parse().ok()? {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        if !is_public(ip) {
            return None;
        }
        let reader = self.current.read().ok()?.clone();
        let record: Record<'_> = reader.lookup(ip).ok()?.decode().ok()??;
        let code = record
            .country
            .and_then(|c| c.iso_code)
            .or_else(|| record.registered_country.and_then(|c| c.iso_code))?;
        (code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic()))
            .then(|| code.to_ascii_uppercase())
    }

    /// Gives each request, threat and event of `write` that has an IP and no country
    /// the IP's country.
    pub fn fill(&self, write: &mut IngestWrite) {
        for r in &mut write.requests {
            if r.country.is_none() {
                r.country = r.ip.as_deref().and_then(|ip| self.country(ip));
            }
        }
        for t in &mut write.threats {
            if t.country.is_none() {
                t.country = t.ip.as_deref().and_then(|ip| self.country(ip));
            }
        }
    }

    /// Reads the file again: `Ok(true)` if it was replaced, `Ok(false)` if it had not
    /// changed since it was last read (unless `force`); on an error the database in use
    /// stays.
    pub fn reload(&self, force: bool) -> Result<bool, GeoError> {
        let now = stamp(&self.path);
        {
            let Ok(mut seen) = self.seen.lock() else {
                return Ok(false);
            };
            if !force && *seen == now {
                return Ok(false);
            }
            *seen = now;
        }
        let reader = Arc::new(open(&self.path)?);
        if let Ok(mut current) = self.current.write() {
            *current = reader;
        }
        Ok(true)
    }

    /// Reloads on SIGHUP and when the file changes, until the process ends.
    pub fn watch(self: Arc<Self>) {
        tokio::spawn(async move {
            #[cfg(unix)]
            let mut hangup =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
            let mut tick = tokio::time::interval(CHECK_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                #[cfg(unix)]
                let forced = match hangup.as_mut() {
                    Some(h) => tokio::select! {
                        _ = h.recv() => true,
                        _ = tick.tick() => false,
                    },
                    None => {
                        tick.tick().await;
                        false
                    }
                };
                #[cfg(not(unix))]
                let forced = {
                    tick.tick().await;
                    false
                };
                let geo = self.clone();
                match tokio::task::spawn_blocking(move || geo.reload(forced)).await {
                    Ok(Ok(true)) => {
                        tracing::info!(path = %self.path.display(), "GeoIP database reloaded")
                    }
                    Ok(Ok(false)) => {}
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "GeoIP database not reloaded; the one in use stays")
                    }
                    Err(e) => tracing::warn!(error = %e, "GeoIP reload failed"),
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::is_public;

    #[test]
    fn only_public_addresses_have_a_country() {
        for ip in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "192.0.2.1",
            "198.51.100.1",
            "203.0.113.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "2001:db8::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "81.2.69.142",
            "8.8.8.8",
            "2001:218::1",
            "::ffff:81.2.69.142",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }
}
