//! Man pages and shell completions, generated from a binary's clap definitions, so they never
//! drift from `--help` (`support-metrics-agent generate-docs DIR`, used by packaging).

use std::io;
use std::path::{Path, PathBuf};

use clap_complete::Shell;

/// Writes `DIR/man/man1/<name>[-<sub>].1` for the command and each subcommand, and
/// `DIR/completions/{<name>.bash,_<name>,<name>.fish}`. Returns the files written.
pub fn generate(mut command: clap::Command, dir: &Path) -> io::Result<Vec<PathBuf>> {
    let name = command.get_name().to_owned();
    let man = dir.join("man/man1");
    std::fs::create_dir_all(&man)?;
    let mut written = Vec::new();
    let mut page = |cmd: clap::Command, file: String| -> io::Result<()> {
        let mut out = Vec::new();
        clap_mangen::Man::new(cmd).render(&mut out)?;
        let path = man.join(file);
        std::fs::write(&path, out)?;
        written.push(path);
        Ok(())
    };
    page(command.clone(), format!("{name}.1"))?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let full = format!("{name}-{}", sub.get_name());
        page(sub.clone().name(full.clone()), format!("{full}.1"))?;
    }
    let completions = dir.join("completions");
    std::fs::create_dir_all(&completions)?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        written.push(clap_complete::generate_to(
            shell,
            &mut command,
            &name,
            &completions,
        )?);
    }
    Ok(written)
}
