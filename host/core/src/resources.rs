//! Resources a node offers and a task or actor asks for.
//!
//! Counted in thousandths (cpus, custom) and bytes (memory), so fractional
//! CPUs add up exactly.

use std::collections::BTreeMap;
use std::fmt;

/// A set of resources in thousandths (cpus, custom) and bytes (memory).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    /// Thousandths of a CPU.
    pub cpu_millis: i64,
    /// Bytes.
    pub memory: i64,
    /// Thousandths of each custom resource.
    pub custom: BTreeMap<String, i64>,
}

impl Resources {
    /// `cpus` CPUs and `memory` bytes.
    pub fn new(cpus: f64, memory: u64) -> Self {
        Resources {
            cpu_millis: to_millis(cpus),
            memory: memory.min(i64::MAX as u64) as i64,
            custom: BTreeMap::new(),
        }
    }

    /// The same, plus `amount` of the custom resource `name`.
    pub fn with_custom(mut self, name: &str, amount: f64) -> Self {
        *self.custom.entry(name.to_string()).or_default() += to_millis(amount);
        self
    }

    /// Only the CPU share (what a blocked holder lends out).
    pub fn cpu_only(&self) -> Resources {
        Resources {
            cpu_millis: self.cpu_millis,
            ..Default::default()
        }
    }

    /// Whether `self` fits in `avail`.
    pub fn fits_in(&self, avail: &Resources) -> bool {
        self.cpu_millis <= avail.cpu_millis
            && self.memory <= avail.memory
            && self
                .custom
                .iter()
                .all(|(k, v)| *v <= avail.custom.get(k).copied().unwrap_or(0))
    }

    /// Adds `other` in.
    pub fn add_all(&mut self, other: &Resources) {
        self.add(other, 1);
    }

    /// Takes `other` out.
    pub fn take(&mut self, other: &Resources) {
        self.add(other, -1);
    }

    fn add(&mut self, other: &Resources, sign: i64) {
        self.cpu_millis += sign * other.cpu_millis;
        self.memory += sign * other.memory;
        for (k, v) in &other.custom {
            *self.custom.entry(k.clone()).or_default() += sign * v;
        }
    }

    /// Why `self` can never fit in `total`, if it cannot.
    pub fn infeasible_in(&self, total: &Resources) -> Option<String> {
        if self.cpu_millis > total.cpu_millis {
            return Some(format!(
                "needs {} cpus but the node has {}",
                from_millis(self.cpu_millis),
                from_millis(total.cpu_millis)
            ));
        }
        if self.memory > total.memory {
            return Some(format!(
                "needs {} bytes of memory but the node has {}",
                self.memory, total.memory
            ));
        }
        for (k, v) in &self.custom {
            let have = total.custom.get(k).copied().unwrap_or(0);
            if *v > have {
                return Some(format!(
                    "needs {} of custom resource `{k}` but the node has {}",
                    from_millis(*v),
                    from_millis(have)
                ));
            }
        }
        None
    }

    /// CPUs as a number (for people and the wire).
    pub fn cpus(&self) -> f64 {
        from_millis(self.cpu_millis)
    }

    /// Custom resources as numbers (for people and the wire).
    pub fn custom_amounts(&self) -> impl Iterator<Item = (&str, f64)> {
        self.custom
            .iter()
            .map(|(k, v)| (k.as_str(), from_millis(*v)))
    }
}

impl fmt::Display for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cpus={} memory={}", self.cpus(), self.memory)?;
        for (k, v) in self.custom_amounts() {
            write!(f, " {k}={v}")?;
        }
        Ok(())
    }
}

fn to_millis(x: f64) -> i64 {
    if x.is_finite() && x > 0.0 {
        (x * 1000.0).round().min(i64::MAX as f64 / 2.0) as i64
    } else {
        0
    }
}

fn from_millis(x: i64) -> f64 {
    x as f64 / 1000.0
}

/// A request that can never be satisfied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the request ({request}) can never be scheduled: it {reason}")]
pub struct Infeasible {
    /// What was asked for.
    pub request: String,
    /// Why it never fits.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_add_up_and_infeasible_requests_say_why() {
        let mut a = Resources::new(0.1, 0);
        for _ in 0..9 {
            a.add_all(&Resources::new(0.1, 0));
        }
        assert_eq!(a, Resources::new(1.0, 0));
        let total = Resources::new(2.0, 100).with_custom("gpu", 1.0);
        assert!(Resources::new(2.0, 100).fits_in(&total));
        let why = Resources::new(1.0, 0)
            .with_custom("gpu", 2.0)
            .infeasible_in(&total)
            .unwrap();
        assert_eq!(why, "needs 2 of custom resource `gpu` but the node has 1");
        assert_eq!(total.to_string(), "cpus=2 memory=100 gpu=1");
    }
}
