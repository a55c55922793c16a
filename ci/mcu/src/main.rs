//! On a Cortex-M4 (`--target thumbv7em-none-eabihf`): the reset handler runs one cycle and
//! parks. On the host: runs the same cycle, prints it, and fails if it did not deliver.
#![cfg_attr(target_os = "none", no_std, no_main)]

mod cycle;

#[cfg(target_os = "none")]
mod bare {
    use core::panic::PanicInfo;

    use support_metrics_core::reporter::Reporter;

    /// The reporter's size on this target, for `ci/mcu/size.py` to read out of the ELF.
    #[used]
    static REPORTER_BYTES: usize = core::mem::size_of::<Reporter>();
    const _: () = assert!(
        core::mem::size_of::<Reporter>() <= 4096,
        "Reporter over 4 KiB"
    );

    #[cortex_m_rt::entry]
    fn main() -> ! {
        // A board would take these from its RNG; constants keep the example self-contained.
        let summary = super::cycle::run([7; 16], 0x5eed);
        // Keeps the cycle from being optimised away: nothing here has side effects.
        core::hint::black_box(&summary);
        loop {
            core::hint::spin_loop();
        }
    }

    #[panic_handler]
    fn panic(_: &PanicInfo<'_>) -> ! {
        loop {
            core::hint::spin_loop();
        }
    }
}

#[cfg(not(target_os = "none"))]
fn main() -> std::process::ExitCode {
    use support_metrics_core::reporter::Reporter;
    let reporter = core::mem::size_of::<Reporter>();
    match cycle::run([7; 16], 0x5eed) {
        Ok(summary) if summary.delivered => {
            println!(
                "cycle: {}-byte record, {} sends, delivered; Reporter {reporter} bytes",
                summary.record_len, summary.transmits
            );
            std::process::ExitCode::SUCCESS
        }
        other => {
            eprintln!("mcu cycle failed: {other:?}");
            std::process::ExitCode::FAILURE
        }
    }
}
