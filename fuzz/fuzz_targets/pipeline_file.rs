//! The pipeline-file parser: any text gives a config or an error that names the file.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let path = std::path::Path::new("/srv/dossier/pipelines/fuzz.toml");
        match dossier::config::Config::from_toml(text, path) {
            Ok(config) => assert!(config.jobs >= 1 && config.min_dpi >= 1),
            Err(e) => assert!(e.to_string().contains("fuzz.toml")),
        }
    }
});
