# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_drctl_global_optspecs
    string join \n cluster= node= passphrase-file= ca= timeout= operator= lab-dir= kind= log-format= h/help V/version
end

function __fish_drctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_drctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_drctl_using_subcommand
    set -l cmd (__fish_drctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c drctl -n "__fish_drctl_needs_command" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_needs_command" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_needs_command" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_needs_command" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_needs_command" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_needs_command" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_needs_command" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_needs_command" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_needs_command" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_needs_command" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_needs_command" -f -a "status" -d 'One row per node: role, epoch, database status, owns, lag, primary, health'
complete -c drctl -n "__fish_drctl_needs_command" -f -a "check" -d 'Exit 0 when the cluster is healthy, 1 listing each problem'
complete -c drctl -n "__fish_drctl_needs_command" -f -a "entry" -d 'Read and write replicated entries'
complete -c drctl -n "__fish_drctl_needs_command" -f -a "events" -d 'Show nodes\' event logs'
complete -c drctl -n "__fish_drctl_needs_command" -f -a "api" -d 'Raw escape hatch: call the admin API directly'
complete -c drctl -n "__fish_drctl_needs_command" -f -a "candidates" -d 'Every node ranked for promotion, with the reason each can or cannot be promoted'
complete -c drctl -n "__fish_drctl_needs_command" -f -a "switchover" -d 'Managed switchover: the primary drains, the target catches up, everyone switches'
complete -c drctl -n "__fish_drctl_needs_command" -f -a "failover" -d 'Forced failover: promote a replica when the primary does not answer'
complete -c drctl -n "__fish_drctl_needs_command" -f -a "repoint" -d 'Set the replicated `primary` setting and point every replica at it'
complete -c drctl -n "__fish_drctl_needs_command" -f -a "demote" -d 'Turn a fenced or restored old primary into a replica, exporting its divergent writes'
complete -c drctl -n "__fish_drctl_needs_command" -f -a "standalone" -d 'Stop a node replicating; it keeps its data'
complete -c drctl -n "__fish_drctl_needs_command" -f -a "join" -d 'Make a node a replica of a primary; the node\'s replicated data is overwritten'
complete -c drctl -n "__fish_drctl_needs_command" -f -a "sync" -d 'Replication modes: automatic sync on or off, full sync on demand'
complete -c drctl -n "__fish_drctl_needs_command" -f -a "seize-roles" -d 'Move the operation-master roles: transfer if the holder answers, seize if not'
complete -c drctl -n "__fish_drctl_needs_command" -f -a "remove-instance" -d 'Metadata cleanup: remove a failed or retired instance from the instance set'
complete -c drctl -n "__fish_drctl_needs_command" -f -a "removenode" -d 'Remove a member by host id or name (`removenode status` lists pending removals)'
complete -c drctl -n "__fish_drctl_needs_command" -f -a "services" -d 'Start or stop a node\'s services (node-local)'
complete -c drctl -n "__fish_drctl_needs_command" -f -a "packages" -d 'Node-local package files'
complete -c drctl -n "__fish_drctl_needs_command" -f -a "upgrade" -d 'Upgrade by dropping every node to standalone, running COMMAND per node, re-forming'
complete -c drctl -n "__fish_drctl_needs_command" -f -a "hosts" -d 'Hosts-file block for the cluster alias'
complete -c drctl -n "__fish_drctl_needs_command" -f -a "certs" -d 'Cluster CA and node certificates'
complete -c drctl -n "__fish_drctl_needs_command" -f -a "lab" -d 'A local cluster of real drnode processes, with fault injection'
complete -c drctl -n "__fish_drctl_needs_command" -f -a "run" -d 'Run a runbook (a file or a bundled name), with a journal to resume from'
complete -c drctl -n "__fish_drctl_needs_command" -f -a "runbook" -d 'List, show and validate runbooks'
complete -c drctl -n "__fish_drctl_needs_command" -f -a "drill" -d 'Prove runbooks on fresh labs: inject faults, run, check, tear down'
complete -c drctl -n "__fish_drctl_needs_command" -f -a "chaos" -d 'Seeded fault campaigns on fresh labs, judged by an invariant checker; a failure prints the seed that replays it (`--seed S --runs 1`)'
complete -c drctl -n "__fish_drctl_needs_command" -f -a "man" -d 'Print the manual page (roff), generated from these definitions: `drctl man > drctl.1`'
complete -c drctl -n "__fish_drctl_needs_command" -f -a "completions" -d 'Print shell completions'
complete -c drctl -n "__fish_drctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c drctl -n "__fish_drctl_using_subcommand status" -s o -l output -d 'Output format: table (fits 80 columns), wide (every column), json or yaml' -r -f -a "table\t'The columns that fit 80 columns'
wide\t'Every column'
json\t''
yaml\t''"
complete -c drctl -n "__fish_drctl_using_subcommand status" -l interval -d 'How often --watch redraws' -r
complete -c drctl -n "__fish_drctl_using_subcommand status" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand status" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand status" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand status" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand status" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand status" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand status" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand status" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand status" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand status" -l json -d 'Print the result as JSON (the same as -o json)'
complete -c drctl -n "__fish_drctl_using_subcommand status" -s w -l watch -d 'Redraw every interval until interrupted'
complete -c drctl -n "__fish_drctl_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand status" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand check" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand check" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand check" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand check" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand check" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand check" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand check" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand check" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand check" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand check" -l json -d 'Print JSON'
complete -c drctl -n "__fish_drctl_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand check" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand entry; and not __fish_seen_subcommand_from put get list rm help" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand entry; and not __fish_seen_subcommand_from put get list rm help" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand entry; and not __fish_seen_subcommand_from put get list rm help" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand entry; and not __fish_seen_subcommand_from put get list rm help" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand entry; and not __fish_seen_subcommand_from put get list rm help" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand entry; and not __fish_seen_subcommand_from put get list rm help" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand entry; and not __fish_seen_subcommand_from put get list rm help" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand entry; and not __fish_seen_subcommand_from put get list rm help" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand entry; and not __fish_seen_subcommand_from put get list rm help" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand entry; and not __fish_seen_subcommand_from put get list rm help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand entry; and not __fish_seen_subcommand_from put get list rm help" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand entry; and not __fish_seen_subcommand_from put get list rm help" -f -a "put" -d 'Write KEY=VALUE through the primary (or --node)'
complete -c drctl -n "__fish_drctl_using_subcommand entry; and not __fish_seen_subcommand_from put get list rm help" -f -a "get" -d 'Print KEY\'s value as held by the primary (or --node)'
complete -c drctl -n "__fish_drctl_using_subcommand entry; and not __fish_seen_subcommand_from put get list rm help" -f -a "list" -d 'List entries'
complete -c drctl -n "__fish_drctl_using_subcommand entry; and not __fish_seen_subcommand_from put get list rm help" -f -a "rm" -d 'Delete KEY'
complete -c drctl -n "__fish_drctl_using_subcommand entry; and not __fish_seen_subcommand_from put get list rm help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from put" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from put" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from put" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from put" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from put" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from put" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from put" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from put" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from put" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from put" -l json -d 'Print the result as JSON'
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from put" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from put" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from get" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from get" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from get" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from get" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from get" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from get" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from get" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from get" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from get" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from get" -l json -d 'Print the result as JSON'
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from get" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from list" -l prefix -d 'Only keys starting with this' -r
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from list" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from list" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from list" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from list" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from list" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from list" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from list" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from list" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from list" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from list" -l json -d 'Print the result as JSON'
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from rm" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from rm" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from rm" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from rm" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from rm" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from rm" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from rm" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from rm" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from rm" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from rm" -l json -d 'Print the result as JSON'
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from rm" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from help" -f -a "put" -d 'Write KEY=VALUE through the primary (or --node)'
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from help" -f -a "get" -d 'Print KEY\'s value as held by the primary (or --node)'
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from help" -f -a "list" -d 'List entries'
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from help" -f -a "rm" -d 'Delete KEY'
complete -c drctl -n "__fish_drctl_using_subcommand entry; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c drctl -n "__fish_drctl_using_subcommand events" -s o -l output -d 'Output format: table (fits 80 columns), wide (every column), json or yaml' -r -f -a "table\t'The columns that fit 80 columns'
wide\t'Every column'
json\t''
yaml\t''"
complete -c drctl -n "__fish_drctl_using_subcommand events" -l since -d 'Only events since then: a duration back from now (10m, 1h30m) or an RFC 3339 time' -r
complete -c drctl -n "__fish_drctl_using_subcommand events" -l type -d 'Only events whose KIND column is this (repeat for several), e.g. promote, sync, lock. (`--kind` is taken: it chooses the engine.)' -r
complete -c drctl -n "__fish_drctl_using_subcommand events" -l after -d 'Show events after this id (per node)' -r
complete -c drctl -n "__fish_drctl_using_subcommand events" -l limit -d 'At most this many events per node (the newest)' -r
complete -c drctl -n "__fish_drctl_using_subcommand events" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand events" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand events" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand events" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand events" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand events" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand events" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand events" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand events" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand events" -l json -d 'Print the result as JSON (the same as -o json)'
complete -c drctl -n "__fish_drctl_using_subcommand events" -s f -l follow -d 'Keep printing new events as they happen, one line each, until interrupted'
complete -c drctl -n "__fish_drctl_using_subcommand events" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand events" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand api" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand api" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand api" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand api" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand api" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand api" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand api" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand api" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand api" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand api" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand api" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand candidates" -s o -l output -d 'Output format: table (fits 80 columns), wide (every column), json or yaml' -r -f -a "table\t'The columns that fit 80 columns'
wide\t'Every column'
json\t''
yaml\t''"
complete -c drctl -n "__fish_drctl_using_subcommand candidates" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand candidates" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand candidates" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand candidates" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand candidates" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand candidates" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand candidates" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand candidates" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand candidates" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand candidates" -l json -d 'Print the result as JSON (the same as -o json)'
complete -c drctl -n "__fish_drctl_using_subcommand candidates" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand candidates" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand switchover" -l to -d 'The node to make primary' -r
complete -c drctl -n "__fish_drctl_using_subcommand switchover" -l expect-primary -d 'Refuse unless this node is the primary' -r
complete -c drctl -n "__fish_drctl_using_subcommand switchover" -l expect-epoch -d 'Refuse unless the cluster is at this epoch' -r
complete -c drctl -n "__fish_drctl_using_subcommand switchover" -l wait -d 'How long each step may take to take effect' -r
complete -c drctl -n "__fish_drctl_using_subcommand switchover" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand switchover" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand switchover" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand switchover" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand switchover" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand switchover" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand switchover" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand switchover" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand switchover" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand switchover" -l dry-run -d 'Print the plan, built from the same probes as a real run, and change nothing'
complete -c drctl -n "__fish_drctl_using_subcommand switchover" -s y -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c drctl -n "__fish_drctl_using_subcommand switchover" -l json -d 'Print the result as JSON'
complete -c drctl -n "__fish_drctl_using_subcommand switchover" -l break-lock -d 'Take the cluster lock even if another operator holds it (logged on every node)'
complete -c drctl -n "__fish_drctl_using_subcommand switchover" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand switchover" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand failover" -l to -d 'The replica to promote (default: the most advanced promotable one)' -r
complete -c drctl -n "__fish_drctl_using_subcommand failover" -l export-dir -d 'Where exported records go' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand failover" -l expect-primary -d 'Refuse unless this node is the primary' -r
complete -c drctl -n "__fish_drctl_using_subcommand failover" -l expect-epoch -d 'Refuse unless the cluster is at this epoch' -r
complete -c drctl -n "__fish_drctl_using_subcommand failover" -l wait -d 'How long each step may take to take effect' -r
complete -c drctl -n "__fish_drctl_using_subcommand failover" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand failover" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand failover" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand failover" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand failover" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand failover" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand failover" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand failover" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand failover" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand failover" -l force -d 'Fail over even if the primary answers (it is fenced), or if a replica is ahead of the target (its extra records are exported, then it is resynced)'
complete -c drctl -n "__fish_drctl_using_subcommand failover" -l dry-run -d 'Print the plan, built from the same probes as a real run, and change nothing'
complete -c drctl -n "__fish_drctl_using_subcommand failover" -s y -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c drctl -n "__fish_drctl_using_subcommand failover" -l json -d 'Print the result as JSON'
complete -c drctl -n "__fish_drctl_using_subcommand failover" -l break-lock -d 'Take the cluster lock even if another operator holds it (logged on every node)'
complete -c drctl -n "__fish_drctl_using_subcommand failover" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand failover" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand repoint" -l primary -d 'The node clients should use; it must be the primary' -r
complete -c drctl -n "__fish_drctl_using_subcommand repoint" -l expect-primary -d 'Refuse unless this node is the primary' -r
complete -c drctl -n "__fish_drctl_using_subcommand repoint" -l expect-epoch -d 'Refuse unless the cluster is at this epoch' -r
complete -c drctl -n "__fish_drctl_using_subcommand repoint" -l wait -d 'How long each step may take to take effect' -r
complete -c drctl -n "__fish_drctl_using_subcommand repoint" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand repoint" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand repoint" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand repoint" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand repoint" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand repoint" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand repoint" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand repoint" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand repoint" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand repoint" -l list -d 'Show which servers could take that place, and why'
complete -c drctl -n "__fish_drctl_using_subcommand repoint" -l dry-run -d 'Print the plan, built from the same probes as a real run, and change nothing'
complete -c drctl -n "__fish_drctl_using_subcommand repoint" -s y -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c drctl -n "__fish_drctl_using_subcommand repoint" -l json -d 'Print the result as JSON'
complete -c drctl -n "__fish_drctl_using_subcommand repoint" -l break-lock -d 'Take the cluster lock even if another operator holds it (logged on every node)'
complete -c drctl -n "__fish_drctl_using_subcommand repoint" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand repoint" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand demote" -l to -d 'The primary to follow (default: the current primary)' -r
complete -c drctl -n "__fish_drctl_using_subcommand demote" -l export -d 'File for the exported records (default: ./drctl-demote-NODE-RUN.jsonl)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand demote" -l expect-primary -d 'Refuse unless this node is the primary' -r
complete -c drctl -n "__fish_drctl_using_subcommand demote" -l expect-epoch -d 'Refuse unless the cluster is at this epoch' -r
complete -c drctl -n "__fish_drctl_using_subcommand demote" -l wait -d 'How long each step may take to take effect' -r
complete -c drctl -n "__fish_drctl_using_subcommand demote" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand demote" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand demote" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand demote" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand demote" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand demote" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand demote" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand demote" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand demote" -l dry-run -d 'Print the plan, built from the same probes as a real run, and change nothing'
complete -c drctl -n "__fish_drctl_using_subcommand demote" -s y -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c drctl -n "__fish_drctl_using_subcommand demote" -l json -d 'Print the result as JSON'
complete -c drctl -n "__fish_drctl_using_subcommand demote" -l break-lock -d 'Take the cluster lock even if another operator holds it (logged on every node)'
complete -c drctl -n "__fish_drctl_using_subcommand demote" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand demote" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand standalone" -l expect-primary -d 'Refuse unless this node is the primary' -r
complete -c drctl -n "__fish_drctl_using_subcommand standalone" -l expect-epoch -d 'Refuse unless the cluster is at this epoch' -r
complete -c drctl -n "__fish_drctl_using_subcommand standalone" -l wait -d 'How long each step may take to take effect' -r
complete -c drctl -n "__fish_drctl_using_subcommand standalone" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand standalone" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand standalone" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand standalone" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand standalone" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand standalone" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand standalone" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand standalone" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand standalone" -l dry-run -d 'Print the plan, built from the same probes as a real run, and change nothing'
complete -c drctl -n "__fish_drctl_using_subcommand standalone" -s y -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c drctl -n "__fish_drctl_using_subcommand standalone" -l json -d 'Print the result as JSON'
complete -c drctl -n "__fish_drctl_using_subcommand standalone" -l break-lock -d 'Take the cluster lock even if another operator holds it (logged on every node)'
complete -c drctl -n "__fish_drctl_using_subcommand standalone" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand standalone" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand join" -l primary -d 'The primary to join' -r
complete -c drctl -n "__fish_drctl_using_subcommand join" -l export -d 'File for the records the primary lacks, exported before the full sync (default: ./drctl-join-NODE-RUN.jsonl)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand join" -l expect-primary -d 'Refuse unless this node is the primary' -r
complete -c drctl -n "__fish_drctl_using_subcommand join" -l expect-epoch -d 'Refuse unless the cluster is at this epoch' -r
complete -c drctl -n "__fish_drctl_using_subcommand join" -l wait -d 'How long each step may take to take effect' -r
complete -c drctl -n "__fish_drctl_using_subcommand join" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand join" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand join" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand join" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand join" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand join" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand join" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand join" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand join" -l dry-run -d 'Print the plan, built from the same probes as a real run, and change nothing'
complete -c drctl -n "__fish_drctl_using_subcommand join" -s y -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c drctl -n "__fish_drctl_using_subcommand join" -l json -d 'Print the result as JSON'
complete -c drctl -n "__fish_drctl_using_subcommand join" -l break-lock -d 'Take the cluster lock even if another operator holds it (logged on every node)'
complete -c drctl -n "__fish_drctl_using_subcommand join" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand join" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand sync; and not __fish_seen_subcommand_from auto full help" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand sync; and not __fish_seen_subcommand_from auto full help" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand sync; and not __fish_seen_subcommand_from auto full help" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand sync; and not __fish_seen_subcommand_from auto full help" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand sync; and not __fish_seen_subcommand_from auto full help" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand sync; and not __fish_seen_subcommand_from auto full help" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand sync; and not __fish_seen_subcommand_from auto full help" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand sync; and not __fish_seen_subcommand_from auto full help" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand sync; and not __fish_seen_subcommand_from auto full help" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand sync; and not __fish_seen_subcommand_from auto full help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand sync; and not __fish_seen_subcommand_from auto full help" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand sync; and not __fish_seen_subcommand_from auto full help" -f -a "auto" -d 'Turn automatic (partial, record by record) replication to NODE on or off'
complete -c drctl -n "__fish_drctl_using_subcommand sync; and not __fish_seen_subcommand_from auto full help" -f -a "full" -d 'On-demand full sync: replace TO\'s replicated data with FROM\'s'
complete -c drctl -n "__fish_drctl_using_subcommand sync; and not __fish_seen_subcommand_from auto full help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from auto" -l expect-primary -d 'Refuse unless this node is the primary' -r
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from auto" -l expect-epoch -d 'Refuse unless the cluster is at this epoch' -r
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from auto" -l wait -d 'How long each step may take to take effect' -r
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from auto" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from auto" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from auto" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from auto" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from auto" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from auto" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from auto" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from auto" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from auto" -l dry-run -d 'Print the plan, built from the same probes as a real run, and change nothing'
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from auto" -s y -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from auto" -l json -d 'Print the result as JSON'
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from auto" -l break-lock -d 'Take the cluster lock even if another operator holds it (logged on every node)'
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from auto" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from auto" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from full" -l from -d 'The node copied' -r
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from full" -l to -d 'The node overwritten (its replicated data is replaced)' -r
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from full" -l expect-primary -d 'Refuse unless this node is the primary' -r
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from full" -l expect-epoch -d 'Refuse unless the cluster is at this epoch' -r
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from full" -l wait -d 'How long each step may take to take effect' -r
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from full" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from full" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from full" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from full" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from full" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from full" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from full" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from full" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from full" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from full" -l dry-run -d 'Print the plan, built from the same probes as a real run, and change nothing'
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from full" -s y -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from full" -l json -d 'Print the result as JSON'
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from full" -l break-lock -d 'Take the cluster lock even if another operator holds it (logged on every node)'
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from full" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from full" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from help" -f -a "auto" -d 'Turn automatic (partial, record by record) replication to NODE on or off'
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from help" -f -a "full" -d 'On-demand full sync: replace TO\'s replicated data with FROM\'s'
complete -c drctl -n "__fish_drctl_using_subcommand sync; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c drctl -n "__fish_drctl_using_subcommand seize-roles" -l to -d 'The new holder of the roles' -r
complete -c drctl -n "__fish_drctl_using_subcommand seize-roles" -l role -d 'A role to move (repeatable; default: every one): schema-master or naming-master on drnode; schema, naming, pdc, rid, infrastructure, domaindns or forestdns on samba-ad' -r
complete -c drctl -n "__fish_drctl_using_subcommand seize-roles" -l expect-primary -d 'Refuse unless this node is the primary' -r
complete -c drctl -n "__fish_drctl_using_subcommand seize-roles" -l expect-epoch -d 'Refuse unless the cluster is at this epoch' -r
complete -c drctl -n "__fish_drctl_using_subcommand seize-roles" -l wait -d 'How long each step may take to take effect' -r
complete -c drctl -n "__fish_drctl_using_subcommand seize-roles" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand seize-roles" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand seize-roles" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand seize-roles" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand seize-roles" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand seize-roles" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand seize-roles" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand seize-roles" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand seize-roles" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand seize-roles" -l dry-run -d 'Print the plan, built from the same probes as a real run, and change nothing'
complete -c drctl -n "__fish_drctl_using_subcommand seize-roles" -s y -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c drctl -n "__fish_drctl_using_subcommand seize-roles" -l json -d 'Print the result as JSON'
complete -c drctl -n "__fish_drctl_using_subcommand seize-roles" -l break-lock -d 'Take the cluster lock even if another operator holds it (logged on every node)'
complete -c drctl -n "__fish_drctl_using_subcommand seize-roles" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand seize-roles" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand remove-instance" -l expect-primary -d 'Refuse unless this node is the primary' -r
complete -c drctl -n "__fish_drctl_using_subcommand remove-instance" -l expect-epoch -d 'Refuse unless the cluster is at this epoch' -r
complete -c drctl -n "__fish_drctl_using_subcommand remove-instance" -l wait -d 'How long each step may take to take effect' -r
complete -c drctl -n "__fish_drctl_using_subcommand remove-instance" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand remove-instance" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand remove-instance" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand remove-instance" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand remove-instance" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand remove-instance" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand remove-instance" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand remove-instance" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand remove-instance" -l force -d 'Remove it even though it answers (samba-ad: its roles are transferred, what only it holds is exported, then it is stopped with its stop_command); other kinds refuse it'
complete -c drctl -n "__fish_drctl_using_subcommand remove-instance" -l dry-run -d 'Print the plan, built from the same probes as a real run, and change nothing'
complete -c drctl -n "__fish_drctl_using_subcommand remove-instance" -s y -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c drctl -n "__fish_drctl_using_subcommand remove-instance" -l json -d 'Print the result as JSON'
complete -c drctl -n "__fish_drctl_using_subcommand remove-instance" -l break-lock -d 'Take the cluster lock even if another operator holds it (logged on every node)'
complete -c drctl -n "__fish_drctl_using_subcommand remove-instance" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand remove-instance" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand removenode" -l expect-primary -d 'Refuse unless this node is the primary' -r
complete -c drctl -n "__fish_drctl_using_subcommand removenode" -l expect-epoch -d 'Refuse unless the cluster is at this epoch' -r
complete -c drctl -n "__fish_drctl_using_subcommand removenode" -l wait -d 'How long each step may take to take effect' -r
complete -c drctl -n "__fish_drctl_using_subcommand removenode" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand removenode" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand removenode" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand removenode" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand removenode" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand removenode" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand removenode" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand removenode" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand removenode" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand removenode" -l force -d 'Complete the removal without the missing acknowledgements'
complete -c drctl -n "__fish_drctl_using_subcommand removenode" -l dry-run -d 'Print the plan, built from the same probes as a real run, and change nothing'
complete -c drctl -n "__fish_drctl_using_subcommand removenode" -s y -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c drctl -n "__fish_drctl_using_subcommand removenode" -l json -d 'Print the result as JSON'
complete -c drctl -n "__fish_drctl_using_subcommand removenode" -l break-lock -d 'Take the cluster lock even if another operator holds it (logged on every node)'
complete -c drctl -n "__fish_drctl_using_subcommand removenode" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand removenode" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand services" -l expect-primary -d 'Refuse unless this node is the primary' -r
complete -c drctl -n "__fish_drctl_using_subcommand services" -l expect-epoch -d 'Refuse unless the cluster is at this epoch' -r
complete -c drctl -n "__fish_drctl_using_subcommand services" -l wait -d 'How long each step may take to take effect' -r
complete -c drctl -n "__fish_drctl_using_subcommand services" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand services" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand services" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand services" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand services" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand services" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand services" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand services" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand services" -l dry-run -d 'Print the plan, built from the same probes as a real run, and change nothing'
complete -c drctl -n "__fish_drctl_using_subcommand services" -s y -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c drctl -n "__fish_drctl_using_subcommand services" -l json -d 'Print the result as JSON'
complete -c drctl -n "__fish_drctl_using_subcommand services" -l break-lock -d 'Take the cluster lock even if another operator holds it (logged on every node)'
complete -c drctl -n "__fish_drctl_using_subcommand services" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand services" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand packages; and not __fish_seen_subcommand_from list put rm sync help" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand packages; and not __fish_seen_subcommand_from list put rm sync help" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand packages; and not __fish_seen_subcommand_from list put rm sync help" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand packages; and not __fish_seen_subcommand_from list put rm sync help" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand packages; and not __fish_seen_subcommand_from list put rm sync help" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand packages; and not __fish_seen_subcommand_from list put rm sync help" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand packages; and not __fish_seen_subcommand_from list put rm sync help" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand packages; and not __fish_seen_subcommand_from list put rm sync help" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand packages; and not __fish_seen_subcommand_from list put rm sync help" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand packages; and not __fish_seen_subcommand_from list put rm sync help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand packages; and not __fish_seen_subcommand_from list put rm sync help" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand packages; and not __fish_seen_subcommand_from list put rm sync help" -f -a "list" -d 'List a node\'s package files (default: the primary\'s)'
complete -c drctl -n "__fish_drctl_using_subcommand packages; and not __fish_seen_subcommand_from list put rm sync help" -f -a "put" -d 'Upload FILE to a node (default: the primary)'
complete -c drctl -n "__fish_drctl_using_subcommand packages; and not __fish_seen_subcommand_from list put rm sync help" -f -a "rm" -d 'Remove a package file from a node (default: the primary)'
complete -c drctl -n "__fish_drctl_using_subcommand packages; and not __fish_seen_subcommand_from list put rm sync help" -f -a "sync" -d 'Copy the primary\'s package files to every replica (checksummed); remove extras'
complete -c drctl -n "__fish_drctl_using_subcommand packages; and not __fish_seen_subcommand_from list put rm sync help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from list" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from list" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from list" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from list" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from list" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from list" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from list" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from list" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from list" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from list" -l json -d 'Print the result as JSON'
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from put" -l name -d 'The name on the node (default: the file\'s name)' -r
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from put" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from put" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from put" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from put" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from put" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from put" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from put" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from put" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from put" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from put" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from put" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from rm" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from rm" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from rm" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from rm" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from rm" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from rm" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from rm" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from rm" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from rm" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from rm" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from sync" -l expect-primary -d 'Refuse unless this node is the primary' -r
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from sync" -l expect-epoch -d 'Refuse unless the cluster is at this epoch' -r
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from sync" -l wait -d 'How long each step may take to take effect' -r
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from sync" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from sync" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from sync" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from sync" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from sync" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from sync" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from sync" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from sync" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from sync" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from sync" -l dry-run -d 'Print the plan, built from the same probes as a real run, and change nothing'
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from sync" -s y -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from sync" -l json -d 'Print the result as JSON'
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from sync" -l break-lock -d 'Take the cluster lock even if another operator holds it (logged on every node)'
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from sync" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from sync" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from help" -f -a "list" -d 'List a node\'s package files (default: the primary\'s)'
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from help" -f -a "put" -d 'Upload FILE to a node (default: the primary)'
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from help" -f -a "rm" -d 'Remove a package file from a node (default: the primary)'
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from help" -f -a "sync" -d 'Copy the primary\'s package files to every replica (checksummed); remove extras'
complete -c drctl -n "__fish_drctl_using_subcommand packages; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c drctl -n "__fish_drctl_using_subcommand upgrade" -l exec -d 'Run for each node; {node}, {url} and {data_dir} are substituted' -r
complete -c drctl -n "__fish_drctl_using_subcommand upgrade" -l id -d 'Names this upgrade (default: a hash of COMMAND); a rerun with the same id continues' -r
complete -c drctl -n "__fish_drctl_using_subcommand upgrade" -l expect-primary -d 'Refuse unless this node is the primary' -r
complete -c drctl -n "__fish_drctl_using_subcommand upgrade" -l expect-epoch -d 'Refuse unless the cluster is at this epoch' -r
complete -c drctl -n "__fish_drctl_using_subcommand upgrade" -l wait -d 'How long each step may take to take effect' -r
complete -c drctl -n "__fish_drctl_using_subcommand upgrade" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand upgrade" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand upgrade" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand upgrade" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand upgrade" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand upgrade" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand upgrade" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand upgrade" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand upgrade" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand upgrade" -l dry-run -d 'Print the plan, built from the same probes as a real run, and change nothing'
complete -c drctl -n "__fish_drctl_using_subcommand upgrade" -s y -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c drctl -n "__fish_drctl_using_subcommand upgrade" -l json -d 'Print the result as JSON'
complete -c drctl -n "__fish_drctl_using_subcommand upgrade" -l break-lock -d 'Take the cluster lock even if another operator holds it (logged on every node)'
complete -c drctl -n "__fish_drctl_using_subcommand upgrade" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand upgrade" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and not __fish_seen_subcommand_from render apply help" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and not __fish_seen_subcommand_from render apply help" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and not __fish_seen_subcommand_from render apply help" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and not __fish_seen_subcommand_from render apply help" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and not __fish_seen_subcommand_from render apply help" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and not __fish_seen_subcommand_from render apply help" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and not __fish_seen_subcommand_from render apply help" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and not __fish_seen_subcommand_from render apply help" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and not __fish_seen_subcommand_from render apply help" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and not __fish_seen_subcommand_from render apply help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and not __fish_seen_subcommand_from render apply help" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and not __fish_seen_subcommand_from render apply help" -f -a "render" -d 'Print the hosts-file block: each node\'s unique name, then the alias (primary first)'
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and not __fish_seen_subcommand_from render apply help" -f -a "apply" -d 'Write the block into FILE between markers (idempotent)'
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and not __fish_seen_subcommand_from render apply help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and __fish_seen_subcommand_from render" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and __fish_seen_subcommand_from render" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and __fish_seen_subcommand_from render" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and __fish_seen_subcommand_from render" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and __fish_seen_subcommand_from render" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and __fish_seen_subcommand_from render" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and __fish_seen_subcommand_from render" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and __fish_seen_subcommand_from render" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and __fish_seen_subcommand_from render" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and __fish_seen_subcommand_from render" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and __fish_seen_subcommand_from render" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and __fish_seen_subcommand_from apply" -l file -d 'The hosts file to write the block into' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and __fish_seen_subcommand_from apply" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and __fish_seen_subcommand_from apply" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and __fish_seen_subcommand_from apply" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and __fish_seen_subcommand_from apply" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and __fish_seen_subcommand_from apply" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and __fish_seen_subcommand_from apply" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and __fish_seen_subcommand_from apply" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and __fish_seen_subcommand_from apply" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and __fish_seen_subcommand_from apply" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and __fish_seen_subcommand_from apply" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and __fish_seen_subcommand_from apply" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and __fish_seen_subcommand_from help" -f -a "render" -d 'Print the hosts-file block: each node\'s unique name, then the alias (primary first)'
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and __fish_seen_subcommand_from help" -f -a "apply" -d 'Write the block into FILE between markers (idempotent)'
complete -c drctl -n "__fish_drctl_using_subcommand hosts; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c drctl -n "__fish_drctl_using_subcommand certs; and not __fish_seen_subcommand_from init issue help" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand certs; and not __fish_seen_subcommand_from init issue help" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand certs; and not __fish_seen_subcommand_from init issue help" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand certs; and not __fish_seen_subcommand_from init issue help" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand certs; and not __fish_seen_subcommand_from init issue help" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand certs; and not __fish_seen_subcommand_from init issue help" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand certs; and not __fish_seen_subcommand_from init issue help" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand certs; and not __fish_seen_subcommand_from init issue help" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand certs; and not __fish_seen_subcommand_from init issue help" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand certs; and not __fish_seen_subcommand_from init issue help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand certs; and not __fish_seen_subcommand_from init issue help" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand certs; and not __fish_seen_subcommand_from init issue help" -f -a "init" -d 'Create a cluster CA (ca.pem, ca.key) in DIR'
complete -c drctl -n "__fish_drctl_using_subcommand certs; and not __fish_seen_subcommand_from init issue help" -f -a "issue" -d 'Issue NAME.pem / NAME.key signed by DIR\'s CA, naming the node and the cluster'
complete -c drctl -n "__fish_drctl_using_subcommand certs; and not __fish_seen_subcommand_from init issue help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c drctl -n "__fish_drctl_using_subcommand certs; and __fish_seen_subcommand_from init" -l dir -d 'Where the CA goes' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand certs; and __fish_seen_subcommand_from init" -l cluster-name -d 'Cluster name, also the group identity in node certificates' -r
complete -c drctl -n "__fish_drctl_using_subcommand certs; and __fish_seen_subcommand_from init" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand certs; and __fish_seen_subcommand_from init" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand certs; and __fish_seen_subcommand_from init" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand certs; and __fish_seen_subcommand_from init" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand certs; and __fish_seen_subcommand_from init" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand certs; and __fish_seen_subcommand_from init" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand certs; and __fish_seen_subcommand_from init" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand certs; and __fish_seen_subcommand_from init" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand certs; and __fish_seen_subcommand_from init" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand certs; and __fish_seen_subcommand_from init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand certs; and __fish_seen_subcommand_from init" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand certs; and __fish_seen_subcommand_from issue" -l dir -d 'The CA\'s directory; the certificate is written there too' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand certs; and __fish_seen_subcommand_from issue" -l cluster-name -d 'Cluster name, also the group identity in node certificates' -r
complete -c drctl -n "__fish_drctl_using_subcommand certs; and __fish_seen_subcommand_from issue" -l san -d 'Extra subject alternative names (host names or IP addresses)' -r
complete -c drctl -n "__fish_drctl_using_subcommand certs; and __fish_seen_subcommand_from issue" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand certs; and __fish_seen_subcommand_from issue" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand certs; and __fish_seen_subcommand_from issue" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand certs; and __fish_seen_subcommand_from issue" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand certs; and __fish_seen_subcommand_from issue" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand certs; and __fish_seen_subcommand_from issue" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand certs; and __fish_seen_subcommand_from issue" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand certs; and __fish_seen_subcommand_from issue" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand certs; and __fish_seen_subcommand_from issue" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand certs; and __fish_seen_subcommand_from issue" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand certs; and __fish_seen_subcommand_from issue" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand certs; and __fish_seen_subcommand_from help" -f -a "init" -d 'Create a cluster CA (ca.pem, ca.key) in DIR'
complete -c drctl -n "__fish_drctl_using_subcommand certs; and __fish_seen_subcommand_from help" -f -a "issue" -d 'Issue NAME.pem / NAME.key signed by DIR\'s CA, naming the node and the cluster'
complete -c drctl -n "__fish_drctl_using_subcommand certs; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and not __fish_seen_subcommand_from up status kill pause resume stop restart down write bench verify help" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and not __fish_seen_subcommand_from up status kill pause resume stop restart down write bench verify help" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and not __fish_seen_subcommand_from up status kill pause resume stop restart down write bench verify help" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and not __fish_seen_subcommand_from up status kill pause resume stop restart down write bench verify help" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and not __fish_seen_subcommand_from up status kill pause resume stop restart down write bench verify help" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and not __fish_seen_subcommand_from up status kill pause resume stop restart down write bench verify help" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and not __fish_seen_subcommand_from up status kill pause resume stop restart down write bench verify help" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and not __fish_seen_subcommand_from up status kill pause resume stop restart down write bench verify help" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand lab; and not __fish_seen_subcommand_from up status kill pause resume stop restart down write bench verify help" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand lab; and not __fish_seen_subcommand_from up status kill pause resume stop restart down write bench verify help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and not __fish_seen_subcommand_from up status kill pause resume stop restart down write bench verify help" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and not __fish_seen_subcommand_from up status kill pause resume stop restart down write bench verify help" -f -a "up" -d 'Start a lab of N nodes of --kind (default drnode) on loopback, node-1 primary, and wait until it is healthy'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and not __fish_seen_subcommand_from up status kill pause resume stop restart down write bench verify help" -f -a "status" -d 'The lab\'s processes'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and not __fish_seen_subcommand_from up status kill pause resume stop restart down write bench verify help" -f -a "kill" -d 'SIGKILL a node'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and not __fish_seen_subcommand_from up status kill pause resume stop restart down write bench verify help" -f -a "pause" -d 'SIGSTOP a node'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and not __fish_seen_subcommand_from up status kill pause resume stop restart down write bench verify help" -f -a "resume" -d 'SIGCONT a paused node'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and not __fish_seen_subcommand_from up status kill pause resume stop restart down write bench verify help" -f -a "stop" -d 'Stop a node gracefully (SIGTERM, SIGKILL after a grace period); a stopped one stays so'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and not __fish_seen_subcommand_from up status kill pause resume stop restart down write bench verify help" -f -a "restart" -d 'Stop (if running) and start a node again, keeping its data'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and not __fish_seen_subcommand_from up status kill pause resume stop restart down write bench verify help" -f -a "down" -d 'Stop every process the lab started and remove the lab directory'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and not __fish_seen_subcommand_from up status kill pause resume stop restart down write bench verify help" -f -a "write" -d 'Write N entries through the cluster; log each acknowledged key'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and not __fish_seen_subcommand_from up status kill pause resume stop restart down write bench verify help" -f -a "bench" -d 'Measure switchover and failover on a fresh 3-node lab (not the one in --lab-dir); with `--kind openldap`, `389ds` or `etcd`, drctl\'s failover and switchover beside the same by hand (ldapmodify, dsconf, etcdctl); with `--kind samba-ad`, seize-roles and remove-instance beside samba-tool by hand'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and not __fish_seen_subcommand_from up status kill pause resume stop restart down write bench verify help" -f -a "verify" -d 'Check that every key of an acked log is on a node (default: the primary)'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and not __fish_seen_subcommand_from up status kill pause resume stop restart down write bench verify help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from up" -l nodes -d 'How many nodes' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from up" -l log-keep -d 'Log records each drnode keeps for partial sync' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from up" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from up" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from up" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from up" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from up" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from up" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from up" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from up" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from up" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from up" -l tls -d 'The cluster file reaches the nodes over TLS: 389ds (ldaps:// urls, agreements over TLS) and etcd (https, client certificates, etcd\'s auth on)'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from up" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from up" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from status" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from status" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from status" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from status" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from status" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from status" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from status" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from status" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from status" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from status" -l json -d 'Print the result as JSON'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from kill" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from kill" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from kill" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from kill" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from kill" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from kill" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from kill" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from kill" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from kill" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from kill" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from pause" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from pause" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from pause" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from pause" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from pause" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from pause" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from pause" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from pause" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from pause" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from pause" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from resume" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from resume" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from resume" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from resume" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from resume" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from resume" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from resume" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from resume" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from resume" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from resume" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from stop" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from stop" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from stop" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from stop" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from stop" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from stop" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from stop" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from stop" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from stop" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from stop" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from restart" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from restart" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from restart" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from restart" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from restart" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from restart" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from restart" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from restart" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from restart" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from restart" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from down" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from down" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from down" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from down" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from down" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from down" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from down" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from down" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from down" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from down" -l keep -d 'Keep the directory (data, logs)'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from down" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from down" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from write" -l count -d 'How many entries to write' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from write" -l rate -d 'Writes per second (default: as fast as acknowledged)' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from write" -l acked-log -d 'Append each acknowledged key to FILE, one per line' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from write" -l prefix -d 'Key prefix (default: lab/<random>)' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from write" -l write-timeout -d 'Give up on a write not acknowledged within this long' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from write" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from write" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from write" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from write" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from write" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from write" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from write" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from write" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from write" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from write" -l json -d 'Print the result as JSON'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from write" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from write" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from bench" -l rounds -d 'Rounds of each procedure: switchovers (each to the next node) and failovers' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from bench" -l rate -d 'Writes per second during the switchovers (drnode)' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from bench" -l sync-entries -d 'Entries in the store that the full sync copies (drnode)' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from bench" -l fanout -d 'Lab sizes to time `drctl status` over, each on a lab of its own (drnode)' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from bench" -l drills -d 'The drills of `drill --all` to time last (drnode): `light` the drnode and slapd ones, `all` those and then the 389-ds, Samba AD and etcd ones (minutes), `none`' -r -f -a "light\t''
all\t''
none\t''"
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from bench" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from bench" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from bench" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from bench" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from bench" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from bench" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from bench" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from bench" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from bench" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from bench" -l json -d 'Print the result as JSON'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from bench" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from bench" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from verify" -l acked-log -d 'The log of acknowledged keys (`lab write --acked-log`)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from verify" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from verify" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from verify" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from verify" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from verify" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from verify" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from verify" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from verify" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from verify" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from verify" -l json -d 'Print the result as JSON'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from verify" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "up" -d 'Start a lab of N nodes of --kind (default drnode) on loopback, node-1 primary, and wait until it is healthy'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "status" -d 'The lab\'s processes'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "kill" -d 'SIGKILL a node'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "pause" -d 'SIGSTOP a node'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "resume" -d 'SIGCONT a paused node'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "stop" -d 'Stop a node gracefully (SIGTERM, SIGKILL after a grace period); a stopped one stays so'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "restart" -d 'Stop (if running) and start a node again, keeping its data'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "down" -d 'Stop every process the lab started and remove the lab directory'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "write" -d 'Write N entries through the cluster; log each acknowledged key'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "bench" -d 'Measure switchover and failover on a fresh 3-node lab (not the one in --lab-dir); with `--kind openldap`, `389ds` or `etcd`, drctl\'s failover and switchover beside the same by hand (ldapmodify, dsconf, etcdctl); with `--kind samba-ad`, seize-roles and remove-instance beside samba-tool by hand'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Check that every key of an acked log is on a node (default: the primary)'
complete -c drctl -n "__fish_drctl_using_subcommand lab; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c drctl -n "__fish_drctl_using_subcommand run" -l var -d 'Set a parameter: --var name=value (repeatable)' -r
complete -c drctl -n "__fish_drctl_using_subcommand run" -l resume -d 'Continue a run that stopped (killed, failed or timed out) after its last verified step (give its `secret: true` parameters again with --var: journals do not keep them)' -r
complete -c drctl -n "__fish_drctl_using_subcommand run" -l wait -d 'How long each step may take to take effect, unless the step sets `timeout:`' -r
complete -c drctl -n "__fish_drctl_using_subcommand run" -l export-dir -d 'Where exported records go' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand run" -l last -d 'With --list: at most this many runs' -r
complete -c drctl -n "__fish_drctl_using_subcommand run" -l show -d 'Show one run from its journal: parameters (secrets were never kept), each step\'s outcome and note, how it ended' -r
complete -c drctl -n "__fish_drctl_using_subcommand run" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand run" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand run" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand run" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand run" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand run" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand run" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand run" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand run" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand run" -l dry-run -d 'Print the plan from the same probes as a real run, and change nothing'
complete -c drctl -n "__fish_drctl_using_subcommand run" -s y -l yes -d 'Answer yes to confirmations (needed without a terminal)'
complete -c drctl -n "__fish_drctl_using_subcommand run" -l json -d 'Print the report as JSON'
complete -c drctl -n "__fish_drctl_using_subcommand run" -l break-lock -d 'Take the cluster lock even if another operator holds it (logged on every node)'
complete -c drctl -n "__fish_drctl_using_subcommand run" -l list -d 'List recent runs from their journals (newest first): id, runbook, outcome, when, and how to resume one that stopped part-way'
complete -c drctl -n "__fish_drctl_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand run" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and not __fish_seen_subcommand_from list show validate actions help" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and not __fish_seen_subcommand_from list show validate actions help" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and not __fish_seen_subcommand_from list show validate actions help" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and not __fish_seen_subcommand_from list show validate actions help" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and not __fish_seen_subcommand_from list show validate actions help" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and not __fish_seen_subcommand_from list show validate actions help" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and not __fish_seen_subcommand_from list show validate actions help" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and not __fish_seen_subcommand_from list show validate actions help" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and not __fish_seen_subcommand_from list show validate actions help" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and not __fish_seen_subcommand_from list show validate actions help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and not __fish_seen_subcommand_from list show validate actions help" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and not __fish_seen_subcommand_from list show validate actions help" -f -a "list" -d 'The bundled runbooks, with their parameters and whether they have a drill'
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and not __fish_seen_subcommand_from list show validate actions help" -f -a "show" -d 'Print a runbook (bundled name or file)'
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and not __fish_seen_subcommand_from list show validate actions help" -f -a "validate" -d 'Check runbook files: exit 2 naming each problem\'s file, line, column and YAML path'
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and not __fish_seen_subcommand_from list show validate actions help" -f -a "actions" -d 'Every action a step can use, with its parameters'
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and not __fish_seen_subcommand_from list show validate actions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format: table (fits 80 columns), wide (every column), json or yaml' -r -f -a "table\t'The columns that fit 80 columns'
wide\t'Every column'
json\t''
yaml\t''"
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from list" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from list" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from list" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from list" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from list" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from list" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from list" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from list" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from list" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from list" -l json -d 'Print the result as JSON (the same as -o json)'
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from show" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from show" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from show" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from show" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from show" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from show" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from show" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from show" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from show" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from validate" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from validate" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from validate" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from validate" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from validate" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from validate" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from validate" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from validate" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from validate" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from validate" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from actions" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from actions" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from actions" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from actions" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from actions" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from actions" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from actions" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from actions" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from actions" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from actions" -l json -d 'Print the result as JSON'
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from actions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from actions" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from help" -f -a "list" -d 'The bundled runbooks, with their parameters and whether they have a drill'
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print a runbook (bundled name or file)'
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from help" -f -a "validate" -d 'Check runbook files: exit 2 naming each problem\'s file, line, column and YAML path'
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from help" -f -a "actions" -d 'Every action a step can use, with its parameters'
complete -c drctl -n "__fish_drctl_using_subcommand runbook; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c drctl -n "__fish_drctl_using_subcommand drill" -l junit -d 'Also write a JUnit XML report to FILE' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand drill" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand drill" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand drill" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand drill" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand drill" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand drill" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand drill" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand drill" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand drill" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand drill" -l all -d 'Every bundled runbook\'s drill'
complete -c drctl -n "__fish_drctl_using_subcommand drill" -s v -l verbose -d 'Show each drill\'s steps and checks (by default: one line per drill)'
complete -c drctl -n "__fish_drctl_using_subcommand drill" -l json -d 'Print the result as JSON'
complete -c drctl -n "__fish_drctl_using_subcommand drill" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand drill" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand chaos" -l runs -d 'How many runs (default 1 unless --duration is given)' -r
complete -c drctl -n "__fish_drctl_using_subcommand chaos" -l duration -d 'Run campaigns until this much time has passed, e.g. 30m, 1h' -r
complete -c drctl -n "__fish_drctl_using_subcommand chaos" -l seed -d 'The campaign\'s seed; run i uses seed S+i (default: drawn from the clock, and printed)' -r
complete -c drctl -n "__fish_drctl_using_subcommand chaos" -l nodes -d 'Nodes per lab, 3 to 5 (samba-ad: 3)' -r
complete -c drctl -n "__fish_drctl_using_subcommand chaos" -l faults -d 'Faults to draw from, comma-separated (default: all): kill, pause, restart, wipe, drctl-kill, race, promoted-dies, partition (a node cut off the network: each node in a network namespace, as root with `ip`), disk-full (a node\'s disk full while it runs: each node\'s data on a tmpfs, as root); those two are skipped where they cannot be made; drctl-dies (drctl SIGKILLed the moment its journal records a change, then rerun or resumed). With --kind openldap: kill, pause, restart, drctl-kill, race, partition, disk-full; with --kind etcd, 389ds or samba-ad: kill, pause, restart, drctl-kill, race' -r
complete -c drctl -n "__fish_drctl_using_subcommand chaos" -l procedures -d 'Procedures to draw from, comma-separated (default: all): switchover, failover, demote, repoint, sync-on, standalone, join (with --kind openldap or 389ds: the first four; with --kind etcd: switchover, removenode, failover, rejoin; with --kind samba-ad: seize-roles, remove-instance, join, repoint, sync)' -r
complete -c drctl -n "__fish_drctl_using_subcommand chaos" -l steps -d 'Steps drawn per run' -r
complete -c drctl -n "__fish_drctl_using_subcommand chaos" -l max-delay -d 'Longest delay drawn between a failure and the next step (the campaign\'s cap; past `sync.max_failures` backoffs it tests late recovery)' -r
complete -c drctl -n "__fish_drctl_using_subcommand chaos" -l sync-give-up -d '`sync.max_failures` of the campaign\'s nodes: after this many failed pulls a replica gives up syncing with a lost primary. The default 3 (about 2 s) makes the drawn delays cross that point, so late recovery is part of every campaign; 30 is drnode\'s own default' -r
complete -c drctl -n "__fish_drctl_using_subcommand chaos" -l deadline -d 'How long healing and recovery may take before a run fails `converges` (samba-ad: at least 300s, a join alone takes about 40 s)' -r
complete -c drctl -n "__fish_drctl_using_subcommand chaos" -l rate -d 'Writes per second of the write client' -r
complete -c drctl -n "__fish_drctl_using_subcommand chaos" -l keep-failed -d 'Keep a failed run\'s lab, logs, acked-write log and journals under DIR/seed-S' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand chaos" -l junit -d 'Also write a JUnit XML report to FILE' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand chaos" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand chaos" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand chaos" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand chaos" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand chaos" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand chaos" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand chaos" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand chaos" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand chaos" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand chaos" -l schedule-only -d 'Print the schedules the seed draws and run nothing'
complete -c drctl -n "__fish_drctl_using_subcommand chaos" -l json -d 'Print the result as JSON'
complete -c drctl -n "__fish_drctl_using_subcommand chaos" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand chaos" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand man" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand man" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand man" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand man" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand man" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand man" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand man" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand man" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand man" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand man" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand completions" -l cluster -d 'Cluster file (default: ./drctl.yaml, else the lab\'s cluster.yaml)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand completions" -l node -d 'The node to talk to: a name from the cluster file, or a URL. A URL without a cluster file reads the member list from that node' -r
complete -c drctl -n "__fish_drctl_using_subcommand completions" -l passphrase-file -d 'File holding the cluster passphrase (else $DRCTL_PASSPHRASE, else the cluster file\'s)' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand completions" -l ca -d 'CA certificate to trust when no cluster file gives one' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand completions" -l timeout -d 'Connect timeout per node, e.g. 500ms, 1s' -r
complete -c drctl -n "__fish_drctl_using_subcommand completions" -l operator -d 'Who is operating, recorded in every node\'s event log (default: $USER)' -r
complete -c drctl -n "__fish_drctl_using_subcommand completions" -l lab-dir -d 'The lab directory' -r -F
complete -c drctl -n "__fish_drctl_using_subcommand completions" -l kind -d 'Which nodes of a mixed cluster file a command acts on (default: the only kind listed, or the kind of the node a procedure names); `lab up --kind openldap` starts slapd' -r -f -a "drnode\t''
openldap\t''
etcd\t''
389ds\t''
samba-ad\t''
skeleton\t''"
complete -c drctl -n "__fish_drctl_using_subcommand completions" -l log-format -d 'drctl\'s own log lines on stderr: text (colours only on a terminal) or one JSON object per line. The level is DRCTL_LOG (default `warn`; e.g. `debug`, `drctl=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drctl -n "__fish_drctl_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drctl -n "__fish_drctl_using_subcommand completions" -s V -l version -d 'Print version'
complete -c drctl -n "__fish_drctl_using_subcommand help; and not __fish_seen_subcommand_from status check entry events api candidates switchover failover repoint demote standalone join sync seize-roles remove-instance removenode services packages upgrade hosts certs lab run runbook drill chaos man completions help" -f -a "status" -d 'One row per node: role, epoch, database status, owns, lag, primary, health'
complete -c drctl -n "__fish_drctl_using_subcommand help; and not __fish_seen_subcommand_from status check entry events api candidates switchover failover repoint demote standalone join sync seize-roles remove-instance removenode services packages upgrade hosts certs lab run runbook drill chaos man completions help" -f -a "check" -d 'Exit 0 when the cluster is healthy, 1 listing each problem'
complete -c drctl -n "__fish_drctl_using_subcommand help; and not __fish_seen_subcommand_from status check entry events api candidates switchover failover repoint demote standalone join sync seize-roles remove-instance removenode services packages upgrade hosts certs lab run runbook drill chaos man completions help" -f -a "entry" -d 'Read and write replicated entries'
complete -c drctl -n "__fish_drctl_using_subcommand help; and not __fish_seen_subcommand_from status check entry events api candidates switchover failover repoint demote standalone join sync seize-roles remove-instance removenode services packages upgrade hosts certs lab run runbook drill chaos man completions help" -f -a "events" -d 'Show nodes\' event logs'
complete -c drctl -n "__fish_drctl_using_subcommand help; and not __fish_seen_subcommand_from status check entry events api candidates switchover failover repoint demote standalone join sync seize-roles remove-instance removenode services packages upgrade hosts certs lab run runbook drill chaos man completions help" -f -a "api" -d 'Raw escape hatch: call the admin API directly'
complete -c drctl -n "__fish_drctl_using_subcommand help; and not __fish_seen_subcommand_from status check entry events api candidates switchover failover repoint demote standalone join sync seize-roles remove-instance removenode services packages upgrade hosts certs lab run runbook drill chaos man completions help" -f -a "candidates" -d 'Every node ranked for promotion, with the reason each can or cannot be promoted'
complete -c drctl -n "__fish_drctl_using_subcommand help; and not __fish_seen_subcommand_from status check entry events api candidates switchover failover repoint demote standalone join sync seize-roles remove-instance removenode services packages upgrade hosts certs lab run runbook drill chaos man completions help" -f -a "switchover" -d 'Managed switchover: the primary drains, the target catches up, everyone switches'
complete -c drctl -n "__fish_drctl_using_subcommand help; and not __fish_seen_subcommand_from status check entry events api candidates switchover failover repoint demote standalone join sync seize-roles remove-instance removenode services packages upgrade hosts certs lab run runbook drill chaos man completions help" -f -a "failover" -d 'Forced failover: promote a replica when the primary does not answer'
complete -c drctl -n "__fish_drctl_using_subcommand help; and not __fish_seen_subcommand_from status check entry events api candidates switchover failover repoint demote standalone join sync seize-roles remove-instance removenode services packages upgrade hosts certs lab run runbook drill chaos man completions help" -f -a "repoint" -d 'Set the replicated `primary` setting and point every replica at it'
complete -c drctl -n "__fish_drctl_using_subcommand help; and not __fish_seen_subcommand_from status check entry events api candidates switchover failover repoint demote standalone join sync seize-roles remove-instance removenode services packages upgrade hosts certs lab run runbook drill chaos man completions help" -f -a "demote" -d 'Turn a fenced or restored old primary into a replica, exporting its divergent writes'
complete -c drctl -n "__fish_drctl_using_subcommand help; and not __fish_seen_subcommand_from status check entry events api candidates switchover failover repoint demote standalone join sync seize-roles remove-instance removenode services packages upgrade hosts certs lab run runbook drill chaos man completions help" -f -a "standalone" -d 'Stop a node replicating; it keeps its data'
complete -c drctl -n "__fish_drctl_using_subcommand help; and not __fish_seen_subcommand_from status check entry events api candidates switchover failover repoint demote standalone join sync seize-roles remove-instance removenode services packages upgrade hosts certs lab run runbook drill chaos man completions help" -f -a "join" -d 'Make a node a replica of a primary; the node\'s replicated data is overwritten'
complete -c drctl -n "__fish_drctl_using_subcommand help; and not __fish_seen_subcommand_from status check entry events api candidates switchover failover repoint demote standalone join sync seize-roles remove-instance removenode services packages upgrade hosts certs lab run runbook drill chaos man completions help" -f -a "sync" -d 'Replication modes: automatic sync on or off, full sync on demand'
complete -c drctl -n "__fish_drctl_using_subcommand help; and not __fish_seen_subcommand_from status check entry events api candidates switchover failover repoint demote standalone join sync seize-roles remove-instance removenode services packages upgrade hosts certs lab run runbook drill chaos man completions help" -f -a "seize-roles" -d 'Move the operation-master roles: transfer if the holder answers, seize if not'
complete -c drctl -n "__fish_drctl_using_subcommand help; and not __fish_seen_subcommand_from status check entry events api candidates switchover failover repoint demote standalone join sync seize-roles remove-instance removenode services packages upgrade hosts certs lab run runbook drill chaos man completions help" -f -a "remove-instance" -d 'Metadata cleanup: remove a failed or retired instance from the instance set'
complete -c drctl -n "__fish_drctl_using_subcommand help; and not __fish_seen_subcommand_from status check entry events api candidates switchover failover repoint demote standalone join sync seize-roles remove-instance removenode services packages upgrade hosts certs lab run runbook drill chaos man completions help" -f -a "removenode" -d 'Remove a member by host id or name (`removenode status` lists pending removals)'
complete -c drctl -n "__fish_drctl_using_subcommand help; and not __fish_seen_subcommand_from status check entry events api candidates switchover failover repoint demote standalone join sync seize-roles remove-instance removenode services packages upgrade hosts certs lab run runbook drill chaos man completions help" -f -a "services" -d 'Start or stop a node\'s services (node-local)'
complete -c drctl -n "__fish_drctl_using_subcommand help; and not __fish_seen_subcommand_from status check entry events api candidates switchover failover repoint demote standalone join sync seize-roles remove-instance removenode services packages upgrade hosts certs lab run runbook drill chaos man completions help" -f -a "packages" -d 'Node-local package files'
complete -c drctl -n "__fish_drctl_using_subcommand help; and not __fish_seen_subcommand_from status check entry events api candidates switchover failover repoint demote standalone join sync seize-roles remove-instance removenode services packages upgrade hosts certs lab run runbook drill chaos man completions help" -f -a "upgrade" -d 'Upgrade by dropping every node to standalone, running COMMAND per node, re-forming'
complete -c drctl -n "__fish_drctl_using_subcommand help; and not __fish_seen_subcommand_from status check entry events api candidates switchover failover repoint demote standalone join sync seize-roles remove-instance removenode services packages upgrade hosts certs lab run runbook drill chaos man completions help" -f -a "hosts" -d 'Hosts-file block for the cluster alias'
complete -c drctl -n "__fish_drctl_using_subcommand help; and not __fish_seen_subcommand_from status check entry events api candidates switchover failover repoint demote standalone join sync seize-roles remove-instance removenode services packages upgrade hosts certs lab run runbook drill chaos man completions help" -f -a "certs" -d 'Cluster CA and node certificates'
complete -c drctl -n "__fish_drctl_using_subcommand help; and not __fish_seen_subcommand_from status check entry events api candidates switchover failover repoint demote standalone join sync seize-roles remove-instance removenode services packages upgrade hosts certs lab run runbook drill chaos man completions help" -f -a "lab" -d 'A local cluster of real drnode processes, with fault injection'
complete -c drctl -n "__fish_drctl_using_subcommand help; and not __fish_seen_subcommand_from status check entry events api candidates switchover failover repoint demote standalone join sync seize-roles remove-instance removenode services packages upgrade hosts certs lab run runbook drill chaos man completions help" -f -a "run" -d 'Run a runbook (a file or a bundled name), with a journal to resume from'
complete -c drctl -n "__fish_drctl_using_subcommand help; and not __fish_seen_subcommand_from status check entry events api candidates switchover failover repoint demote standalone join sync seize-roles remove-instance removenode services packages upgrade hosts certs lab run runbook drill chaos man completions help" -f -a "runbook" -d 'List, show and validate runbooks'
complete -c drctl -n "__fish_drctl_using_subcommand help; and not __fish_seen_subcommand_from status check entry events api candidates switchover failover repoint demote standalone join sync seize-roles remove-instance removenode services packages upgrade hosts certs lab run runbook drill chaos man completions help" -f -a "drill" -d 'Prove runbooks on fresh labs: inject faults, run, check, tear down'
complete -c drctl -n "__fish_drctl_using_subcommand help; and not __fish_seen_subcommand_from status check entry events api candidates switchover failover repoint demote standalone join sync seize-roles remove-instance removenode services packages upgrade hosts certs lab run runbook drill chaos man completions help" -f -a "chaos" -d 'Seeded fault campaigns on fresh labs, judged by an invariant checker; a failure prints the seed that replays it (`--seed S --runs 1`)'
complete -c drctl -n "__fish_drctl_using_subcommand help; and not __fish_seen_subcommand_from status check entry events api candidates switchover failover repoint demote standalone join sync seize-roles remove-instance removenode services packages upgrade hosts certs lab run runbook drill chaos man completions help" -f -a "man" -d 'Print the manual page (roff), generated from these definitions: `drctl man > drctl.1`'
complete -c drctl -n "__fish_drctl_using_subcommand help; and not __fish_seen_subcommand_from status check entry events api candidates switchover failover repoint demote standalone join sync seize-roles remove-instance removenode services packages upgrade hosts certs lab run runbook drill chaos man completions help" -f -a "completions" -d 'Print shell completions'
complete -c drctl -n "__fish_drctl_using_subcommand help; and not __fish_seen_subcommand_from status check entry events api candidates switchover failover repoint demote standalone join sync seize-roles remove-instance removenode services packages upgrade hosts certs lab run runbook drill chaos man completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c drctl -n "__fish_drctl_using_subcommand help; and __fish_seen_subcommand_from entry" -f -a "put" -d 'Write KEY=VALUE through the primary (or --node)'
complete -c drctl -n "__fish_drctl_using_subcommand help; and __fish_seen_subcommand_from entry" -f -a "get" -d 'Print KEY\'s value as held by the primary (or --node)'
complete -c drctl -n "__fish_drctl_using_subcommand help; and __fish_seen_subcommand_from entry" -f -a "list" -d 'List entries'
complete -c drctl -n "__fish_drctl_using_subcommand help; and __fish_seen_subcommand_from entry" -f -a "rm" -d 'Delete KEY'
complete -c drctl -n "__fish_drctl_using_subcommand help; and __fish_seen_subcommand_from sync" -f -a "auto" -d 'Turn automatic (partial, record by record) replication to NODE on or off'
complete -c drctl -n "__fish_drctl_using_subcommand help; and __fish_seen_subcommand_from sync" -f -a "full" -d 'On-demand full sync: replace TO\'s replicated data with FROM\'s'
complete -c drctl -n "__fish_drctl_using_subcommand help; and __fish_seen_subcommand_from packages" -f -a "list" -d 'List a node\'s package files (default: the primary\'s)'
complete -c drctl -n "__fish_drctl_using_subcommand help; and __fish_seen_subcommand_from packages" -f -a "put" -d 'Upload FILE to a node (default: the primary)'
complete -c drctl -n "__fish_drctl_using_subcommand help; and __fish_seen_subcommand_from packages" -f -a "rm" -d 'Remove a package file from a node (default: the primary)'
complete -c drctl -n "__fish_drctl_using_subcommand help; and __fish_seen_subcommand_from packages" -f -a "sync" -d 'Copy the primary\'s package files to every replica (checksummed); remove extras'
complete -c drctl -n "__fish_drctl_using_subcommand help; and __fish_seen_subcommand_from hosts" -f -a "render" -d 'Print the hosts-file block: each node\'s unique name, then the alias (primary first)'
complete -c drctl -n "__fish_drctl_using_subcommand help; and __fish_seen_subcommand_from hosts" -f -a "apply" -d 'Write the block into FILE between markers (idempotent)'
complete -c drctl -n "__fish_drctl_using_subcommand help; and __fish_seen_subcommand_from certs" -f -a "init" -d 'Create a cluster CA (ca.pem, ca.key) in DIR'
complete -c drctl -n "__fish_drctl_using_subcommand help; and __fish_seen_subcommand_from certs" -f -a "issue" -d 'Issue NAME.pem / NAME.key signed by DIR\'s CA, naming the node and the cluster'
complete -c drctl -n "__fish_drctl_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "up" -d 'Start a lab of N nodes of --kind (default drnode) on loopback, node-1 primary, and wait until it is healthy'
complete -c drctl -n "__fish_drctl_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "status" -d 'The lab\'s processes'
complete -c drctl -n "__fish_drctl_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "kill" -d 'SIGKILL a node'
complete -c drctl -n "__fish_drctl_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "pause" -d 'SIGSTOP a node'
complete -c drctl -n "__fish_drctl_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "resume" -d 'SIGCONT a paused node'
complete -c drctl -n "__fish_drctl_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "stop" -d 'Stop a node gracefully (SIGTERM, SIGKILL after a grace period); a stopped one stays so'
complete -c drctl -n "__fish_drctl_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "restart" -d 'Stop (if running) and start a node again, keeping its data'
complete -c drctl -n "__fish_drctl_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "down" -d 'Stop every process the lab started and remove the lab directory'
complete -c drctl -n "__fish_drctl_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "write" -d 'Write N entries through the cluster; log each acknowledged key'
complete -c drctl -n "__fish_drctl_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "bench" -d 'Measure switchover and failover on a fresh 3-node lab (not the one in --lab-dir); with `--kind openldap`, `389ds` or `etcd`, drctl\'s failover and switchover beside the same by hand (ldapmodify, dsconf, etcdctl); with `--kind samba-ad`, seize-roles and remove-instance beside samba-tool by hand'
complete -c drctl -n "__fish_drctl_using_subcommand help; and __fish_seen_subcommand_from lab" -f -a "verify" -d 'Check that every key of an acked log is on a node (default: the primary)'
complete -c drctl -n "__fish_drctl_using_subcommand help; and __fish_seen_subcommand_from runbook" -f -a "list" -d 'The bundled runbooks, with their parameters and whether they have a drill'
complete -c drctl -n "__fish_drctl_using_subcommand help; and __fish_seen_subcommand_from runbook" -f -a "show" -d 'Print a runbook (bundled name or file)'
complete -c drctl -n "__fish_drctl_using_subcommand help; and __fish_seen_subcommand_from runbook" -f -a "validate" -d 'Check runbook files: exit 2 naming each problem\'s file, line, column and YAML path'
complete -c drctl -n "__fish_drctl_using_subcommand help; and __fish_seen_subcommand_from runbook" -f -a "actions" -d 'Every action a step can use, with its parameters'
