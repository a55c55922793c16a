//! Facts about this host and the broker's settings for customer records. The versions are in
//! [`versions`](crate::versions).

/// Operating system, architecture, logical CPUs and physical memory of this machine.
pub fn host() -> (&'static str, &'static str, u32, u64) {
    let cpus = std::thread::available_parallelism()
        .map_or(1, |n| u32::try_from(n.get()).unwrap_or(u32::MAX));
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kb * 1024)
        })
        .unwrap_or(0);
    (std::env::consts::OS, std::env::consts::ARCH, cpus, memory)
}

/// `broker.id`, else `node.id` (KRaft), as the broker reads them.
pub fn broker_id(get: impl Fn(&str) -> Option<String>) -> Option<i64> {
    ["broker.id", "node.id"]
        .iter()
        .find_map(|k| get(k)?.trim().parse().ok())
}

#[cfg(test)]
mod host_tests {
    #[test]
    fn host_facts_are_plausible() {
        let (os, arch, cpus, memory) = super::host();
        assert_eq!(os, "linux");
        assert!(
            !arch.is_empty() && cpus >= 1 && memory > 1 << 20,
            "{arch} {cpus} {memory}"
        );
    }

    #[test]
    fn broker_id_from_either_key() {
        let get = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|p| p.0 == k).map(|p| p.1.to_owned())
        };
        assert_eq!(super::broker_id(get(&[("broker.id", " 7 ")])), Some(7));
        assert_eq!(super::broker_id(get(&[("node.id", "3")])), Some(3));
        assert_eq!(
            super::broker_id(get(&[("broker.id", "x"), ("node.id", "3")])),
            Some(3)
        );
        assert_eq!(super::broker_id(get(&[])), None);
    }
}
