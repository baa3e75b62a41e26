//! `weft ps` with Docker's filters, `-n` and `-l`, as the daemon reads them: a filter names exactly
//! the containers it matches, so `weft rm -f $(weft ps -aq -f name=X)` removes X and nothing else.
//! And the 304 answers (`start` of a running container, `stop` of a stopped one) are no error.

use weft_tests::Host;

/// The names `weft ps` lists with `args`, sorted.
fn names(h: &Host, args: &[&str]) -> Vec<String> {
    let mut all = vec!["ps", "--format", "{{.Names}}"];
    all.extend_from_slice(args);
    let mut names: Vec<String> = h.weft(&all).ok().lines().map(String::from).collect();
    names.sort();
    names
}

#[test]
fn ps_filters_name_exactly_what_they_match() {
    let h = Host::new();
    let run = |args: &[&str]| {
        let mut all = vec!["run", "-d"];
        all.extend_from_slice(args);
        h.weft(&all).ok().trim().to_string()
    };
    let web1 = run(&["--name", "web1", "-l", "app=web", "-p", "8080:80", "hostfs", "sleep", "600"]);
    run(&["--name", "web2", "--label", "app=web", "--label", "tier", "hostfs", "sleep", "600"]);
    run(&["--name", "db", "-l", "app=db", "--expose", "5432", "--network", "none", "hostfs", "sleep", "600"]);
    h.weft(&["run", "--name", "done", "--network", "none", "hostfs", "sh", "-c", "exit 3"]).fails_with(3, "");

    assert_eq!(names(&h, &[]), ["db", "web1", "web2"]);
    assert_eq!(names(&h, &["-f", "name=web"]), ["web1", "web2"]);
    assert_eq!(names(&h, &["-f", "name=^web1$"]), ["web1"]);
    assert_eq!(names(&h, &["-f", "label=app=web"]), ["web1", "web2"]);
    assert_eq!(names(&h, &["-f", "label=tier"]), ["web2"]);
    assert_eq!(names(&h, &["-f", "label=app=web", "-f", "name=2"]), ["web2"]);
    assert_eq!(names(&h, &["-f", "publish=80"]), ["web1"]);
    assert_eq!(names(&h, &["-f", "expose=5432"]), ["db"]);
    assert_eq!(names(&h, &["-f", &format!("id={}", &web1[..10])]), ["web1"]);
    assert_eq!(names(&h, &["-f", "network=none"]), ["db"]);
    assert_eq!(names(&h, &["-f", "ancestor=hostfs"]), ["db", "web1", "web2"]);
    assert_eq!(names(&h, &["-f", "since=web1"]), ["db", "web2"]);
    assert_eq!(names(&h, &["-a", "-f", "before=web2"]), ["web1"]);
    // A status filter and a limit list stopped containers without -a, as dockerd does.
    assert_eq!(names(&h, &["-f", "status=exited"]), ["done"]);
    assert_eq!(names(&h, &["-a", "-f", "exited=3"]), ["done"]);
    assert!(names(&h, &["-a", "-f", "exited=0"]).is_empty());
    assert_eq!(names(&h, &["-l"]), ["done"]);
    assert_eq!(names(&h, &["-n", "2"]), ["db", "done"]);
    assert_eq!(names(&h, &["-a", "-f", "label=app"]), ["db", "web1", "web2"]);
    let (status, list) = h.api("GET", "/containers/json?all=1&limit=1", None);
    assert_eq!((status, list.as_array().map(Vec::len)), (200, Some(1)));

    h.weft(&["ps", "-f", "bogus=1"]).fails_with(1, "invalid filter 'bogus'");
    h.weft(&["ps", "-f", "status=sleeping"]).fails_with(1, "Unrecognised filter value for status: sleeping");
    h.weft(&["ps", "-f", "before=nosuch"]).fails_with(1, "No such container: nosuch");

    // The one-liner that removed every container while filters were ignored.
    let ids = h.weft(&["ps", "-aq", "-f", "name=^web1$"]).ok().trim().to_string();
    assert_eq!(ids.lines().count(), 1, "{ids}");
    h.weft(&["rm", "-f", &ids]).ok();
    assert_eq!(names(&h, &["-a"]), ["db", "done", "web2"]);
    let inspect: serde_json::Value = serde_json::from_str(h.weft(&["inspect", "web2"]).ok()).unwrap();
    assert_eq!(inspect[0]["Config"]["Labels"], serde_json::json!({"app": "web", "tier": ""}));

    // 304 Not Modified is no error, as with Docker's CLI.
    assert_eq!(h.weft(&["start", "web2"]).ok(), "web2\n");
    assert_eq!(h.weft(&["stop", "done"]).ok(), "done\n");
    h.weft(&["rm", "-f", "web2", "db", "done"]).ok();
}
