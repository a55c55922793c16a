use std::io::Write;

use super::*;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "support-metrics-versions-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A real jar: some classes, and `kafka/kafka-version.properties` saying `version`
/// (deliberately different from the version in the jar's name).
fn jar(path: &Path, version: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut zip = zip::ZipWriter::new(File::create(path).unwrap());
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..300 {
        zip.start_file(format!("org/apache/kafka/common/C{i}.class"), deflated)
            .unwrap();
        zip.write_all(&[0xca, 0xfe, 0xba, 0xbe]).unwrap();
    }
    zip.start_file(VERSION_ENTRY, deflated).unwrap();
    write!(zip, "#comment\ncommitId=abcdef\nversion={version}\n").unwrap();
    zip.finish().unwrap();
}

fn config(path: &Path) -> PathBuf {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, "broker.id=0\n").unwrap();
    path.to_owned()
}

#[test]
fn the_version_inside_the_jar_for_every_layout() {
    let root = scratch("layouts");
    // Apache tarball, config/ and config/kraft/.
    let apache = root.join("kafka_2.13-3.7.0");
    jar(&apache.join("libs/kafka-clients-3.7.0.jar"), "3.7.2");
    let found = find(&candidates(
        &config(&apache.join("config/server.properties")),
        None,
        &[],
    ));
    assert_eq!((found.kafka.as_str(), found.platform), ("3.7.2", None));
    assert!(
        found.source.contains("kafka-clients-3.7.0.jar"),
        "{}",
        found.source
    );
    let kraft = find(&candidates(
        &config(&apache.join("config/kraft/server.properties")),
        None,
        &[],
    ));
    assert_eq!(kraft.kafka, "3.7.2");
    // Confluent Platform tarball: etc/kafka/ and share/java/kafka/.
    let cp = root.join("confluent-7.6.1");
    jar(
        &cp.join("share/java/kafka/kafka-clients-7.6.1-ccs.jar"),
        "7.6.2-ccs",
    );
    let found = find(&candidates(
        &config(&cp.join("etc/kafka/server.properties")),
        None,
        &[],
    ));
    assert_eq!(
        (found.kafka.as_str(), found.platform.as_deref()),
        ("7.6.2-ccs", Some("7.6.2"))
    );
    // --kafka-home as the root or as the jar directory.
    let elsewhere = config(&root.join("elsewhere/server.properties"));
    for home in [cp.clone(), cp.join("share/java/kafka")] {
        let found = find(&candidates(&elsewhere, Some(&home), &[]));
        assert_eq!(found.kafka, "7.6.2-ccs", "{}", home.display());
    }
    // The broker's classpath wins over the layout.
    let other = root.join("other/kafka-clients-3.9.0.jar");
    jar(&other, "3.9.1");
    let classpath = [root.join("other/*"), PathBuf::from("/nonexistent/x.jar")];
    let found = find(&candidates(
        &cp.join("etc/kafka/server.properties"),
        None,
        &classpath,
    ));
    assert_eq!(found.kafka, "3.9.1");
}

#[test]
fn jar_names_are_the_last_resort_and_unknown_says_where_it_looked() {
    let root = scratch("names");
    std::fs::create_dir_all(root.join("libs")).unwrap();
    std::fs::write(root.join("libs/kafka_2.13-3.6.1.jar"), b"not a zip").unwrap();
    std::fs::write(root.join("libs/kafka-clients-3.6.1.jar"), b"not a zip").unwrap();
    let found = find(&candidates(
        &config(&root.join("config/server.properties")),
        None,
        &[],
    ));
    assert_eq!(found.kafka, "3.6.1");
    assert!(found.source.starts_with("the name of"), "{}", found.source);
    let empty = scratch("empty");
    let found = find(&candidates(
        &config(&empty.join("config/server.properties")),
        None,
        &[],
    ));
    assert!(!found.found());
    assert!(
        found.searched.contains(&empty.join("libs")),
        "{:?}",
        found.searched
    );
}

#[test]
fn platform_releases() {
    assert_eq!(platform_release("7.6.1-ccs").as_deref(), Some("7.6.1"));
    assert_eq!(platform_release("7.6.1-ce").as_deref(), Some("7.6.1"));
    assert_eq!(platform_release("3.7.0"), None);
    assert_eq!(platform_release("-ccs"), None);
}

#[test]
fn package_installs_look_in_usr_share_java_kafka() {
    let dirs = candidates(Path::new("/etc/kafka/server.properties"), None, &[]);
    assert!(
        dirs.contains(&PathBuf::from("/usr/share/java/kafka")),
        "{dirs:?}"
    );
    let dirs = candidates(Path::new("/opt/cp/etc/kafka/server.properties"), None, &[]);
    assert!(
        dirs.contains(&PathBuf::from("/opt/cp/share/java/kafka")),
        "{dirs:?}"
    );
    let dirs = candidates(
        Path::new("/opt/kafka/config/kraft/server.properties"),
        None,
        &[],
    );
    assert!(dirs.contains(&PathBuf::from("/opt/kafka/libs")), "{dirs:?}");
}
