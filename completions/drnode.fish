# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_drnode_global_optspecs
    string join \n log-format= h/help V/version
end

function __fish_drnode_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_drnode_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_drnode_using_subcommand
    set -l cmd (__fish_drnode_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c drnode -n "__fish_drnode_needs_command" -l log-format -d 'Log lines as text (colours only on a terminal) or one JSON object per line. The level is DRNODE_LOG (default `info`; e.g. `debug`, `drnode=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drnode -n "__fish_drnode_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drnode -n "__fish_drnode_needs_command" -s V -l version -d 'Print version'
complete -c drnode -n "__fish_drnode_needs_command" -f -a "init" -d 'Create a data directory: config, host_id, store, node state'
complete -c drnode -n "__fish_drnode_needs_command" -f -a "serve" -d 'Run the node'
complete -c drnode -n "__fish_drnode_needs_command" -f -a "check-config" -d 'Validate a config file and say exactly what is wrong'
complete -c drnode -n "__fish_drnode_needs_command" -f -a "man" -d 'Print the manual page (roff): `drnode man > drnode.1`'
complete -c drnode -n "__fish_drnode_needs_command" -f -a "completions" -d 'Print shell completions'
complete -c drnode -n "__fish_drnode_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c drnode -n "__fish_drnode_using_subcommand init" -l name -d 'Node name (a hostname label: letters, digits, \'-\')' -r
complete -c drnode -n "__fish_drnode_using_subcommand init" -l cluster -d 'Cluster name (a hostname label)' -r
complete -c drnode -n "__fish_drnode_using_subcommand init" -l data-dir -r -F
complete -c drnode -n "__fish_drnode_using_subcommand init" -l listen -d 'Address to listen on' -r
complete -c drnode -n "__fish_drnode_using_subcommand init" -l advertise -d 'URL other nodes and drctl use to reach this node (default: https://LISTEN)' -r
complete -c drnode -n "__fish_drnode_using_subcommand init" -l certs-dir -d 'Directory holding NAME.pem, NAME.key and ca.pem, as made by `drctl certs`' -r -F
complete -c drnode -n "__fish_drnode_using_subcommand init" -l cert -r -F
complete -c drnode -n "__fish_drnode_using_subcommand init" -l key -r -F
complete -c drnode -n "__fish_drnode_using_subcommand init" -l ca -d 'CA certificate(s) to trust for peers' -r -F
complete -c drnode -n "__fish_drnode_using_subcommand init" -l trust-dir -d 'Directory of peer certificates to trust (instead of or besides a CA)' -r -F
complete -c drnode -n "__fish_drnode_using_subcommand init" -l passphrase-file -d 'File holding the cluster passphrase (mode 0600)' -r -F
complete -c drnode -n "__fish_drnode_using_subcommand init" -l join -d 'Join an existing cluster: follow this primary and take a full copy of its data' -r
complete -c drnode -n "__fish_drnode_using_subcommand init" -l log-keep -d 'Log records kept for partial sync' -r
complete -c drnode -n "__fish_drnode_using_subcommand init" -l sync-max-failures -d 'Failed pulls after which a replica\'s automatic sync suspends itself (default 30)' -r
complete -c drnode -n "__fish_drnode_using_subcommand init" -l log-format -d 'Log lines as text (colours only on a terminal) or one JSON object per line. The level is DRNODE_LOG (default `info`; e.g. `debug`, `drnode=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drnode -n "__fish_drnode_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drnode -n "__fish_drnode_using_subcommand serve" -l data-dir -d 'The data directory `drnode init` made (its drnode.yaml is the config)' -r -F
complete -c drnode -n "__fish_drnode_using_subcommand serve" -l config -d 'A config file elsewhere than in the data directory' -r -F
complete -c drnode -n "__fish_drnode_using_subcommand serve" -l exit-with-pid -d 'Shut down when process PID exits (a drill\'s lab ends with the drill, even a killed one)' -r
complete -c drnode -n "__fish_drnode_using_subcommand serve" -l log-format -d 'Log lines as text (colours only on a terminal) or one JSON object per line. The level is DRNODE_LOG (default `info`; e.g. `debug`, `drnode=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drnode -n "__fish_drnode_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drnode -n "__fish_drnode_using_subcommand check-config" -l config -d 'The config file to check' -r -F
complete -c drnode -n "__fish_drnode_using_subcommand check-config" -l data-dir -d 'Check the data directory\'s drnode.yaml' -r -F
complete -c drnode -n "__fish_drnode_using_subcommand check-config" -l log-format -d 'Log lines as text (colours only on a terminal) or one JSON object per line. The level is DRNODE_LOG (default `info`; e.g. `debug`, `drnode=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drnode -n "__fish_drnode_using_subcommand check-config" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drnode -n "__fish_drnode_using_subcommand man" -l log-format -d 'Log lines as text (colours only on a terminal) or one JSON object per line. The level is DRNODE_LOG (default `info`; e.g. `debug`, `drnode=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drnode -n "__fish_drnode_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drnode -n "__fish_drnode_using_subcommand completions" -l log-format -d 'Log lines as text (colours only on a terminal) or one JSON object per line. The level is DRNODE_LOG (default `info`; e.g. `debug`, `drnode=debug,warn`)' -r -f -a "text\t'One readable line per event (colours only on a terminal, never with NO_COLOR)'
json\t'One JSON object per line: timestamp, level, target, fields'"
complete -c drnode -n "__fish_drnode_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drnode -n "__fish_drnode_using_subcommand help; and not __fish_seen_subcommand_from init serve check-config man completions help" -f -a "init" -d 'Create a data directory: config, host_id, store, node state'
complete -c drnode -n "__fish_drnode_using_subcommand help; and not __fish_seen_subcommand_from init serve check-config man completions help" -f -a "serve" -d 'Run the node'
complete -c drnode -n "__fish_drnode_using_subcommand help; and not __fish_seen_subcommand_from init serve check-config man completions help" -f -a "check-config" -d 'Validate a config file and say exactly what is wrong'
complete -c drnode -n "__fish_drnode_using_subcommand help; and not __fish_seen_subcommand_from init serve check-config man completions help" -f -a "man" -d 'Print the manual page (roff): `drnode man > drnode.1`'
complete -c drnode -n "__fish_drnode_using_subcommand help; and not __fish_seen_subcommand_from init serve check-config man completions help" -f -a "completions" -d 'Print shell completions'
complete -c drnode -n "__fish_drnode_using_subcommand help; and not __fish_seen_subcommand_from init serve check-config man completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
