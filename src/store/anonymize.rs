//! The IP policy ([`IpAnonymize`]) applied where rows enter the store: each write's
//! requests, threats and auth events are stored with the policy's form of their IP (and
//! sessions take theirs from the stored requests), while the caller's values, which
//! detection reads, keep the full address.

use std::borrow::Cow;

use crate::privacy::IpAnonymize;

use super::{NewAuthEvent, NewRequest, NewThreat, Store};

/// A row with a client IP.
pub(super) trait ClientIp: Clone {
    fn ip(&self) -> Option<&str>;
    fn set_ip(&mut self, ip: Option<String>);
}

macro_rules! client_ip {
    ($($row:ty),*) => {$(
        impl ClientIp for $row {
            fn ip(&self) -> Option<&str> {
                self.ip.as_deref()
            }
            fn set_ip(&mut self, ip: Option<String>) {
                self.ip = ip;
            }
        }
    )*};
}
client_ip!(NewRequest, NewThreat, NewAuthEvent);

/// `row` as it is stored under `policy`: borrowed when that changes nothing.
pub(super) fn one<T: ClientIp>(policy: IpAnonymize, row: &T) -> Cow<'_, T> {
    match row.ip() {
        Some(ip) if policy.changes() => {
            let stored = policy.stored(Some(ip));
            if stored.as_deref() == Some(ip) {
                Cow::Borrowed(row)
            } else {
                let mut row = row.clone();
                row.set_ip(stored);
                Cow::Owned(row)
            }
        }
        _ => Cow::Borrowed(row),
    }
}

/// `rows` as they are stored under `policy`: borrowed when that changes none of them.
pub(super) fn all<T: ClientIp>(policy: IpAnonymize, rows: &[T]) -> Cow<'_, [T]> {
    if !policy.changes() {
        return Cow::Borrowed(rows);
    }
    let stored: Vec<Cow<'_, T>> = rows.iter().map(|r| one(policy, r)).collect();
    if stored.iter().all(|r| matches!(r, Cow::Borrowed(_))) {
        Cow::Borrowed(rows)
    } else {
        Cow::Owned(stored.into_iter().map(Cow::into_owned).collect())
    }
}

impl Store {
    /// How this store keeps client IPs (`SIGHTLINE_IP_ANONYMIZE`).
    pub fn ip_anonymize(&self) -> IpAnonymize {
        self.ip_anonymize
    }

    /// This store, keeping client IPs as `policy` says from now on.
    pub fn with_ip_anonymize(mut self, policy: IpAnonymize) -> Store {
        self.ip_anonymize = policy;
        self
    }
}
