//! The server's configuration: defaults, the YAML file, flags, and the messages an admin
//! sees when the file is wrong.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use switchboard_runtime::config::{ConfigError, ConfigOverrides, ServerConfig, parse_port_range};

/// Loads `yaml` written to `switchboard.yaml` in a fresh folder, with `flags`.
fn load(yaml: &str, flags: &ConfigOverrides) -> (Result<ServerConfig, ConfigError>, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("switchboard.yaml");
    std::fs::write(&file, yaml).unwrap();
    (
        ServerConfig::load(Some(&file), flags),
        dir.path().to_path_buf(),
    )
}

/// The error message for `yaml`, with the temporary folder taken out.
fn error(yaml: &str) -> String {
    let (result, dir) = load(yaml, &ConfigOverrides::default());
    let e = result.expect_err("the config should be refused");
    e.to_string().replace(&format!("{}/", dir.display()), "")
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn no_file_and_no_flags_is_the_embedded_defaults() {
    let c = ServerConfig::load(None, &ConfigOverrides::default()).unwrap();
    assert_eq!(c, ServerConfig::default());
    assert_eq!(c.sip_addr, addr("0.0.0.0:5060"));
    assert_eq!(c.http_addr, addr("127.0.0.1:8080"));
    assert_eq!(c.rtp_ports, 10000..=20000);
    assert_eq!(c.data_dir, Path::new("var"));
    assert_eq!(c.dialplans, Path::new("dialplans"));
    assert_eq!(c.prompts, Path::new("prompts"));
    assert_eq!(c.realm, "switchboard");
    assert_eq!(c.public_ip, None);
    assert!(c.http_names.is_empty());
    assert_eq!(c.shutdown_deadline, Duration::from_secs(10));
}

#[test]
fn the_file_sets_every_key_and_relative_paths_follow_the_file() {
    let yaml = "\
# the office PBX
sip-addr: 192.0.2.1:5070
http-addr: \"[::1]:9000\"
http-names:
  - PBX.office.example
  - 10.0.0.5, fd00::5
rtp-ports: 30000-30999
data-dir: state
dialplans: /srv/plans
prompts: sounds
realm: office
public-ip: 203.0.113.7
shutdown-deadline: 1500ms
media-timeout: 0s
";
    let (c, dir) = load(yaml, &ConfigOverrides::default());
    let c = c.unwrap();
    assert_eq!(c.sip_addr, addr("192.0.2.1:5070"));
    assert_eq!(c.http_addr, addr("[::1]:9000"));
    let names: Vec<String> = c.http_names.iter().map(|n| n.to_string()).collect();
    assert_eq!(names, ["pbx.office.example", "10.0.0.5", "[fd00::5]"]);
    assert_eq!(c.rtp_ports, 30000..=30999);
    assert_eq!(c.data_dir, dir.join("state"));
    assert_eq!(c.dialplans, Path::new("/srv/plans"));
    assert_eq!(c.prompts, dir.join("sounds"));
    assert_eq!(c.realm, "office");
    assert_eq!(c.public_ip, Some("203.0.113.7".parse().unwrap()));
    assert_eq!(c.shutdown_deadline, Duration::from_millis(1500));
    assert_eq!(c.media_timeout, Duration::ZERO);
}

#[test]
fn an_empty_file_or_one_of_comments_keeps_the_defaults() {
    for yaml in ["", "\n", "# nothing set yet\n", "---\n"] {
        let (c, _dir) = load(yaml, &ConfigOverrides::default());
        assert_eq!(c.unwrap(), ServerConfig::default(), "{yaml:?}");
    }
}

#[test]
fn flags_win_over_the_file_and_the_file_over_the_defaults() {
    let yaml = "sip-addr: 0.0.0.0:5070\nhttp-addr: 127.0.0.1:9000\ndata-dir: /srv/var\n";
    let flags = ConfigOverrides {
        http_addr: Some(addr("0.0.0.0:8081")),
        rtp_ports: Some(parse_port_range("40000-40099").unwrap()),
        dialplans: Some(PathBuf::from("plans")),
        ..ConfigOverrides::default()
    };
    let (c, _dir) = load(yaml, &flags);
    let c = c.unwrap();
    assert_eq!(c.sip_addr, addr("0.0.0.0:5070"), "from the file");
    assert_eq!(c.http_addr, addr("0.0.0.0:8081"), "the flag wins");
    assert_eq!(c.rtp_ports, 40000..=40099, "flag only");
    assert_eq!(c.data_dir, Path::new("/srv/var"), "from the file");
    assert_eq!(c.dialplans, Path::new("plans"), "flag paths stay as typed");
    assert_eq!(c.prompts, Path::new("prompts"), "default");
}

#[test]
fn an_unknown_key_is_named_with_its_place_and_the_likely_key() {
    assert_eq!(
        error("http-addr: 127.0.0.1:8080\nsip-adr: 0.0.0.0:5060\n"),
        "unknown key `sip-adr` in switchboard.yaml (line 2, column 1); did you mean `sip-addr`?"
    );
    assert_eq!(
        error("data_dir: /srv\n"),
        "unknown key `data_dir` in switchboard.yaml (line 1, column 1); did you mean `data-dir`?"
    );
    assert_eq!(
        error("colour: blue\n"),
        "unknown key `colour` in switchboard.yaml (line 1, column 1); the keys are sip-addr, \
         http-addr, http-names, tls-cert, tls-key, rtp-ports, data-dir, dialplans, prompts, realm, digest-algorithms, public-ip, shutdown-deadline, media-timeout, sip-messages-per-source, trunks, chat"
    );
}

#[test]
fn an_invalid_value_is_named_with_its_key_place_and_fix() {
    let cases = [
        (
            "sip-addr: 1.2.3:5060\n",
            "invalid `sip-addr` in switchboard.yaml (line 1, column 11): `1.2.3:5060` is not \
             an IP address and port; write it like 0.0.0.0:5060 or [::]:5060",
        ),
        (
            "\nhttp-addr: localhost\n",
            "invalid `http-addr` in switchboard.yaml (line 2, column 12): `localhost` is not \
             an IP address and port; write it like 0.0.0.0:5060 or [::]:5060",
        ),
        (
            "http-names: http://pbx.office.example:8080/\n",
            "invalid `http-names` in switchboard.yaml (line 1, column 13): \
             `http://pbx.office.example:8080/` is not a host name; write the name the admin \
             types in the browser, without http:// or a port, like pbx.office.example or \
             10.0.0.5",
        ),
        (
            "rtp-ports: 20000-10000\n",
            "invalid `rtp-ports` in switchboard.yaml (line 1, column 12): `20000-10000` runs \
             backwards; write the lower port first: 10000-20000",
        ),
        (
            "rtp-ports: 10001-10002\n",
            "invalid `rtp-ports` in switchboard.yaml (line 1, column 12): `10001-10002` holds \
             no RTP port pair: RTP needs an even port and the odd one after it (RTCP), so give \
             at least two ports starting at an even one, like 10000-20000",
        ),
        (
            "public-ip: 203.0.113.7:5060\n",
            "invalid `public-ip` in switchboard.yaml (line 1, column 12): `203.0.113.7:5060` \
             is not an IP address; write it like 203.0.113.10, without a port",
        ),
        (
            "shutdown-deadline: soon\n",
            "invalid `shutdown-deadline` in switchboard.yaml (line 1, column 20): `soon` is not \
             a duration; a duration is a number and a unit: 500ms, 20s, 2m or 1h",
        ),
        (
            "shutdown-deadline: 10\n",
            "invalid `shutdown-deadline` in switchboard.yaml (line 1, column 20): `10` needs a \
             unit; a duration is a number and a unit: 500ms, 20s, 2m or 1h",
        ),
        (
            "realm: \"\"\n",
            "invalid `realm` in switchboard.yaml (line 1, column 8): the realm must be a \
             non-empty name without quotes, like `switchboard`",
        ),
    ];
    for (yaml, expected) in cases {
        assert_eq!(error(yaml), expected, "{yaml:?}");
    }
}

#[test]
fn yaml_that_is_not_keys_and_values_is_refused_with_its_place() {
    let e = error("- sip-addr\n- http-addr\n");
    assert_eq!(
        e,
        "invalid config file switchboard.yaml (line 1, column 1): the file must be a list of \
         `key: value` lines, like `sip-addr: 0.0.0.0:5060`"
    );
    // A syntax error keeps the places the YAML parser names.
    assert_eq!(
        error("realm: office\nsip-addr: \"0.0.0.0:5060\n"),
        "invalid config file switchboard.yaml: found unexpected end of stream at line 3 \
         column 1, while scanning a quoted scalar at line 2 column 11"
    );
    let e = error("sip-addr: [0.0.0.0:5060]\n");
    assert_eq!(
        e,
        "invalid `sip-addr` in switchboard.yaml (line 1, column 11): invalid type: sequence, \
         expected an IP address and port"
    );
}

#[test]
fn a_missing_file_is_named() {
    let e = ServerConfig::load(
        Some(Path::new("/nonexistent/switchboard.yaml")),
        &ConfigOverrides::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("cannot read the config file /nonexistent/switchboard.yaml: "),
        "{e}"
    );
}

#[test]
fn rtp_ports_may_not_take_the_sip_port() {
    let e = error("rtp-ports: 5000-6000\n");
    assert_eq!(
        e,
        "rtp-ports 5000-6000 include the SIP port 5060; move one of them (for example \
         --rtp-ports 10000-20000 with --sip-addr 0.0.0.0:5060)"
    );
    let flags = ConfigOverrides {
        sip_addr: Some(addr("0.0.0.0:15060")),
        ..ConfigOverrides::default()
    };
    assert!(ServerConfig::load(None, &flags).is_err());
}

#[test]
fn port_ranges_as_the_flag_reads_them() {
    assert_eq!(parse_port_range("10000-20000"), Ok(10000..=20000));
    assert_eq!(parse_port_range(" 10000 - 10001 "), Ok(10000..=10001));
    assert_eq!(parse_port_range("10001-10003"), Ok(10001..=10003));
    assert_eq!(parse_port_range("65534-65535"), Ok(65534..=65535));
    for bad in [
        "10000",
        "10000-",
        "-20000",
        "a-b",
        "0-100",
        "10000-70000",
        "20000-10000",
        "10000-10000",
        "10001-10002",
        "65535-65535",
    ] {
        assert!(parse_port_range(bad).is_err(), "{bad} should be refused");
    }
    assert_eq!(
        parse_port_range("10000").unwrap_err(),
        "`10000` is not a port range; write the first and last port, like 10000-20000"
    );
}

#[test]
fn durations() {
    // One duration parser for flags, the file and the language: a unit is required.
    use switchboard_dsl::duration::parse as parse_duration;
    assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
    assert!(parse_duration("10").unwrap_err().contains("needs a unit"));
    assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
    assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
    assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
    assert!(parse_duration("s").is_err());
}

#[test]
fn digest_algorithms_come_from_the_file_and_the_flag_wins() {
    use switchboard_runtime::config::parse_digest_algorithms;
    use switchboard_runtime::sip::DigestAlgorithm;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("switchboard.yaml");
    std::fs::write(&file, "digest-algorithms: SHA-256\n").unwrap();
    let from_file = ServerConfig::load(Some(&file), &ConfigOverrides::default()).unwrap();
    assert_eq!(from_file.digest_algorithms, vec![DigestAlgorithm::Sha256]);
    let flags = ConfigOverrides {
        digest_algorithms: Some(parse_digest_algorithms("sha-256, md5").unwrap()),
        ..ConfigOverrides::default()
    };
    let both = ServerConfig::load(Some(&file), &flags).unwrap();
    assert_eq!(
        both.digest_algorithms,
        vec![DigestAlgorithm::Sha256, DigestAlgorithm::Md5]
    );
    // MD5 alone by default: Debian's baresip refuses a 401 that also offers SHA-256.
    assert_eq!(
        ServerConfig::default().digest_algorithms,
        vec![DigestAlgorithm::Md5]
    );
    std::fs::write(&file, "digest-algorithms: md4\n").unwrap();
    let err = ServerConfig::load(Some(&file), &ConfigOverrides::default()).unwrap_err();
    assert!(
        err.to_string().contains("`md4` is not a digest algorithm"),
        "{err}"
    );
}

#[test]
fn http_names_are_a_list_in_the_file_or_commas_and_the_flag_wins() {
    use switchboard_runtime::config::parse_http_names;
    let names =
        |c: &ServerConfig| -> Vec<String> { c.http_names.iter().map(|n| n.to_string()).collect() };
    let (c, _) = load(
        "http-names: [pbx.office.example, 10.0.0.5]\n",
        &ConfigOverrides::default(),
    );
    assert_eq!(names(&c.unwrap()), ["pbx.office.example", "10.0.0.5"]);
    let (c, _) = load(
        "http-names: pbx.office.example\n",
        &ConfigOverrides::default(),
    );
    assert_eq!(names(&c.unwrap()), ["pbx.office.example"]);
    let flags = ConfigOverrides {
        http_names: Some(parse_http_names("switchboard.lan").unwrap()),
        ..ConfigOverrides::default()
    };
    let (c, _) = load("http-names: pbx.office.example\n", &flags);
    assert_eq!(names(&c.unwrap()), ["switchboard.lan"]);
    assert_eq!(
        error("http-names: [pbx.office.example:8080]\n"),
        "invalid `http-names` in switchboard.yaml (line 1, column 13): \
         `pbx.office.example:8080` is not a host name; write the name the admin types in \
         the browser, without http:// or a port, like pbx.office.example or 10.0.0.5"
    );
}

#[test]
fn the_tls_certificate_and_key_come_together_relative_to_the_file() {
    let (c, dir) = load(
        "tls-cert: tls/cert.pem\ntls-key: tls/key.pem\n",
        &ConfigOverrides::default(),
    );
    let files = c.unwrap().tls().expect("both are set");
    assert_eq!(files.cert, dir.join("tls/cert.pem"));
    assert_eq!(files.key, dir.join("tls/key.pem"));
    assert_eq!(ServerConfig::default().tls(), None, "plain HTTP by default");
    let flags = ConfigOverrides {
        tls_key: Some("/etc/switchboard/key.pem".into()),
        ..ConfigOverrides::default()
    };
    let (c, _) = load("tls-cert: /etc/switchboard/cert.pem\n", &flags);
    assert_eq!(
        c.unwrap().tls().unwrap().key,
        Path::new("/etc/switchboard/key.pem")
    );
    assert_eq!(
        error("tls-cert: cert.pem\n"),
        "tls-cert is set but tls-key is not; HTTPS needs both: set --tls-key to the \
         certificate's private key (PEM)"
    );
    assert!(error("tls-key: key.pem\n").contains("set --tls-cert"));
}
