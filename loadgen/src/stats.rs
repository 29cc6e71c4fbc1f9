//! Latency samples and their percentiles.

use serde_json::{Value, json};

/// Most samples kept; later ones are counted but not stored.
const MAX_SAMPLES: usize = 10_000_000;

/// Latencies in microseconds.
#[derive(Debug, Default, Clone)]
pub struct Latencies {
    samples: Vec<u32>,
    dropped: u64,
}

impl Latencies {
    /// Records one latency.
    pub fn record(&mut self, micros: u64) {
        if self.samples.len() < MAX_SAMPLES {
            self.samples.push(u32::try_from(micros).unwrap_or(u32::MAX));
        } else {
            self.dropped += 1;
        }
    }

    /// Adds another set's samples.
    pub fn merge(&mut self, other: Latencies) {
        for s in other.samples {
            self.record(u64::from(s));
        }
        self.dropped += other.dropped;
    }

    /// Number of samples recorded.
    pub fn count(&self) -> u64 {
        self.samples.len() as u64 + self.dropped
    }

    /// `{count, p50_us, p99_us, p999_us, max_us}` (nulls without samples).
    pub fn summary(&mut self) -> Value {
        self.samples.sort_unstable();
        let pct = |p: f64| -> Value {
            if self.samples.is_empty() {
                return Value::Null;
            }
            let rank = ((p * self.samples.len() as f64).ceil() as usize).max(1) - 1;
            json!(self.samples[rank.min(self.samples.len() - 1)])
        };
        json!({
            "count": self.count(),
            "p50_us": pct(0.50),
            "p99_us": pct(0.99),
            "p999_us": pct(0.999),
            "max_us": self.samples.last(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let mut l = Latencies::default();
        for v in (1..=1000).rev() {
            l.record(v);
        }
        let s = l.summary();
        assert_eq!(s["count"], 1000);
        assert_eq!(s["p50_us"], 500);
        assert_eq!(s["p99_us"], 990);
        assert_eq!(s["p999_us"], 999);
        assert_eq!(s["max_us"], 1000);
        assert!(Latencies::default().summary()["p50_us"].is_null());
    }
}
