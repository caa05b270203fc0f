//! What machine the figures come from: CPU, cores, memory, load average.

use std::process::Command;

pub struct Machine {
    pub cpu: String,
    pub cores: String,
    pub memory: String,
    pub load: String,
    pub kernel: String,
}

fn output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .unwrap_or_default()
}

pub fn describe() -> Machine {
    let lscpu = output("lscpu", &[]);
    let cpu = lscpu
        .lines()
        .find_map(|line| line.strip_prefix("Model name:"))
        .map(|name| name.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))
                .map(|kib| kib.trim().trim_end_matches("kB").trim().to_string())
        })
        .and_then(|kib| kib.parse::<u64>().ok())
        .map(|kib| format!("{:.1} GiB", kib as f64 / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown".into());
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    Machine {
        cpu,
        cores: output("nproc", &[]),
        memory,
        load,
        kernel: output("uname", &["-sr"]),
    }
}
