//! Logging, configured from `[log]`.

use tracing_subscriber::EnvFilter;

use handoff_config::{LogConfig, LogFormat};

/// Installs the global subscriber. Logs go to stderr, so command output on stdout stays
/// clean for scripts. Calling it twice is harmless (the second call does nothing).
pub fn init(config: &LogConfig) {
    // The filter was validated when the configuration was loaded.
    let filter = EnvFilter::try_new(&config.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match config.format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
