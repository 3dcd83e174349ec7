# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_exabgp_healthcheck_global_optspecs
    string join \n s/silent syslog-facility= no-syslog d/debug log-format= a/no-ack sudo n/name= F/config= p/pid= user= group= control-socket= watchdog= bfd= bfd-local= bfd-interval= bfd-multiplier= i/interval= f/fast-interval= t/timeout= rise= fall= splay disable= c/command= check= N/next-hop= ip= ip-ifname= local-preference= deaggregate-networks no-ip-setup dynamic-ip-setup label= label-exact-match start-ip= up-metric= down-metric= disabled-metric= increase= community= extended-community= large-community= disabled-community= as-path= up-as-path= down-as-path= disabled-as-path= withdraw-on-down path-id= neighbor= debounce api-version= execute= up-execute= down-execute= disabled-execute= drain-file= drain-time= drain-community= drain-local-preference= metric-from= metric-step= metric-hysteresis= metric-hold= dampening dampening-half-life= dampening-suppress= dampening-reuse= dampening-max-suppress= dry-run once metrics-file= metrics-listen= h/help V/version
end

function __fish_exabgp_healthcheck_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_exabgp_healthcheck_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_exabgp_healthcheck_using_subcommand
    set -l cmd (__fish_exabgp_healthcheck_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l syslog-facility -d 'Log to syslog using FACILITY [default: daemon]. Also spelled -sF' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l log-format -d 'How log lines look on the console: text (the reference\'s `LEVEL[healthcheck] message`) or json (one object per line: ts, level, service, msg, and fields such as from, to, rc, duration_ms). Syslog keeps the text [default: text]' -r -f -a "text\t''
json\t''"
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -s n -l name -d 'Name for this healthchecker (in syslog: healthcheck-NAME)' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -s F -l config -d 'Read configuration from a file' -r -F
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -s p -l pid -d 'Write the PID to FILE (removed at exit)' -r -F
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l user -d 'Switch to USER after setting up the addresses' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l group -d 'Switch to GROUP after setting up the addresses' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l control-socket -d 'Listen on this unix socket (mode 0600, removed at exit) for `exabgp-healthcheck ctl`: status, check, drain, resume. None by default' -r -F
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l watchdog -d 'When the main loop has not come round for D (at least 1s): write every service\'s withdraws and exit 70, so that ExaBGP withdraws and restarts the plugin. Off by default; recommended with BFD' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l bfd -d 'Speak BFD with this router (repeatable; an IP address, IPv6 link-local as fe80::1%IFNAME): it drops this node within the detection time when the node or the plugin stops answering. Normally ExaBGP\'s neighbors. None by default' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l bfd-local -d 'The source address of the BFD sessions of its address family (repeatable, one per family): ExaBGP\'s local-address. Default: the one the kernel picks to reach the peer' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l bfd-interval -d 'BFD: our transmit and receive interval once a session is Up (10ms..10s)' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l bfd-multiplier -d 'BFD: packets missed in a row before the peer is declared down (1..255)' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -s i -l interval -d 'Time between checks; 0 exits after the first announcement' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -s f -l fast-interval -d 'Time between checks while a state change is about to occur (RISING, FALLING)' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -s t -l timeout -d 'Time the check command may take before it is killed and counted as failed; 0 = no limit. Hooks are bounded by it too' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l rise -d 'Successful checks in a row before the service is considered up' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l fall -d 'Failed checks in a row before the service is considered down' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l disable -d 'While FILE exists, the service is considered disabled' -r -F
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -s c -l command -l cmd -d 'Command to use for the health check (run with /bin/sh -c); none = always healthy' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l check -d 'A native check, run without a fork: tcp://HOST:PORT, http://HOST[:PORT]/PATH (options #status=N, #body=TEXT), https://HOST[:PORT]/PATH (the same, verified against the system\'s roots; #insecure: not verified; #sni=NAME: the name sent and verified; #min-days=N: the certificate valid N more days), dns://SERVER[:PORT]/NAME[?type=TYPE] (option #expect=IP), ntp://SERVER[:PORT] (options #max-stratum=N, #max-offset=DURATION) or icmp://HOST (an echo reply). HOST is an IP address or localhost. Repeatable; every check and --command must pass, all under one --timeout' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -s N -l next-hop -d 'Next hop to announce [default: self]' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l ip -d 'Advertise this IP address or network (CIDR notation); repeatable. None: every non-loopback address found on lo' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l ip-ifname -d 'Bind this IP address or network (also given with --ip) to the given interface, for example 192.0.2.1%eth0; repeatable' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l local-preference -d 'Advertise with local preference P (-1: not sent)' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l label -d 'Label of the addresses (lo:LABEL): set on the ones we add, and, with no --ip, selects the ones to advertise (by prefix)' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l start-ip -d 'Index of the first IP in the list of IP addresses (the list is rotated)' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l up-metric -d 'MED of the first IP when the service is up' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l down-metric -d 'MED of the first IP when the service is down' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l disabled-metric -d 'MED of the first IP when the service is disabled' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l increase -d 'For each additional IP address, increase the MED by M' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l community -d 'Announce with the supplied community' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l extended-community -d 'Announce with the supplied extended community' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l large-community -d 'Announce with the supplied large community' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l disabled-community -d 'Announce with the supplied community (instead of --community) when down or disabled' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l as-path -d 'Announce with the supplied AS path' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l up-as-path -d 'Announce with the supplied AS path when the service is up' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l down-as-path -d 'Announce with the supplied AS path when the service is down' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l disabled-as-path -d 'Announce with the supplied AS path when the service is disabled' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l path-id -d 'Path ID (ADD-PATH) to advertise for the routes' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l neighbor -d 'Advertise only to the selected neighbors (* for all); repeatable' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l api-version -d 'ExaBGP API to write: 4 (ExaBGP 3.4 to 5.x: `announce ...`, `neighbor A announce ...`) or 6 (`peer * announce ...`)' -r -f -a "4\t''
6\t''"
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l execute -d 'Execute CMD on each state change (STATE=<NAME> in its environment); repeatable' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l up-execute -d 'Execute CMD when the service becomes available; repeatable' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l down-execute -d 'Execute CMD when the service becomes unavailable; repeatable' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l disabled-execute -d 'Execute CMD when the service is disabled; repeatable' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l drain-file -d 'While FILE exists the service drains (RFC 8326): for --drain-time its routes are announced with --drain-community, --drain-local-preference and the down metric (DRAINING), then withdrawn (DRAINED; at once if nothing was announced); once FILE is gone it starts again from INIT. Wins over every other state, --disable too. Hooks: only --execute runs, with STATE=DRAINING or STATE=DRAINED' -r -F
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l drain-time -d 'How long DRAINING lasts before the routes are withdrawn' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l drain-community -d 'Community added to the announcements while DRAINING (GRACEFUL_SHUTDOWN); one or more ASN:VALUE, separated by spaces' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l drain-local-preference -d 'Local preference of the announcements while DRAINING (for iBGP receivers)' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l metric-from -d 'In UP, raise the MED by what the check measured: latency (its duration, averaged, one more per --metric-step) or output (the number on the first line the command prints; none: no raise). Always kept below the down and disabled metrics. Needs a check; output needs --command' -r -f -a "latency\t''
output\t''"
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l metric-step -d 'With --metric-from latency: one more MED per this much of the average latency' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l metric-hysteresis -d 'With --metric-from: a new MED is announced only when it differs from the announced one by at least N' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l metric-hold -d 'With --metric-from: a new MED is announced no sooner than this after the last change' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l dampening-half-life -d 'The time in which the penalty halves' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l dampening-suppress -d 'A flap that takes the penalty above this suppresses the service' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l dampening-reuse -d 'The suppression ends when the penalty decays below this' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l dampening-max-suppress -d 'The suppression ends this long after it began at the latest (the penalty never goes above what decays below --dampening-reuse in this time)' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l metrics-file -d 'Write the metrics (Prometheus text format) to PATH after every check and transition, replaced atomically, for node_exporter\'s textfile collector; its folder must exist' -r -F
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l metrics-listen -d 'Serve the metrics over HTTP at ADDR:PORT (127.0.0.1:9876, [::1]:9876, localhost:9876) on GET /metrics' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -s s -l silent -d 'Don\'t log to the console (stderr)'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l no-syslog -d 'Disable syslog logging'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -s d -l debug -d 'Enable debugging (debug messages on the console; turns syslog off)'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -s a -l no-ack -d 'Do not expect ExaBGP to acknowledge each line (exabgp.api.ack=false): write without waiting for its answers. Without it, at most 16 lines wait for an answer, and never for long when none comes'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l sudo -d 'Use sudo (`sudo -n ip address ...`) to add and remove the service addresses'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l splay -d 'Wait a random time below --interval before the first check, so that a fleet restarted together does not check in step'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l deaggregate-networks -d 'Announce every address of the --ip networks as its own /32 or /128 route'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l no-ip-setup -d 'Don\'t set up missing addresses on the interfaces'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l dynamic-ip-setup -d 'Remove the addresses when the service is down or disabled, set them up again when up'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l label-exact-match -d 'Match --label exactly instead of as a prefix'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l withdraw-on-down -d 'Withdraw the routes when the service is down or disabled, instead of raising the MED'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l debounce -d 'Announce only on state changes, instead of at every check'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l dampening -d 'Suppress a service that flaps (RFC 2439\'s dampening): each UP -> DOWN adds 1000 to its penalty, which halves every --dampening-half-life; above --dampening-suppress it is SUPPRESSED (announced as DOWN is, whatever its checks say: they run, and do not count) until the penalty decays below --dampening-reuse, at most --dampening-max-suppress; then INIT. The drain and --disable win over it. Hooks: only --execute runs, with STATE=SUPPRESSED'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l dry-run -d 'Run as usual but change no address and expect no acknowledgement: the lines go to stdout and each transition is explained on stderr'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -l once -d 'Run the check once, print the verdict, its output and the lines it would send, then exit: 0 healthy, 1 unhealthy, disabled or draining'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -s h -l help -d 'Print help'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -s V -l version -d 'Print version'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_needs_command" -f -a "ctl" -d 'Ask a running exabgp-healthcheck, through its --control-socket, for the state of its services, have them checked now, drained or resumed.'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_using_subcommand ctl; and not __fish_seen_subcommand_from status check drain resume" -l socket -d 'The plugin\'s control socket (its --control-socket)' -r -F
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_using_subcommand ctl; and not __fish_seen_subcommand_from status check drain resume" -l json -d 'Print the plugin\'s answer as it came, one JSON object, instead of text'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_using_subcommand ctl; and not __fish_seen_subcommand_from status check drain resume" -s h -l help -d 'Print help'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_using_subcommand ctl; and not __fish_seen_subcommand_from status check drain resume" -s V -l version -d 'Print version'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_using_subcommand ctl; and not __fish_seen_subcommand_from status check drain resume" -f -a "status" -d 'Each service (or SERVICE): its state, since when, its last check, its routes and their MED'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_using_subcommand ctl; and not __fish_seen_subcommand_from status check drain resume" -f -a "check" -d 'Check every service (or SERVICE) now, as SIGUSR1 does; the schedule goes on from there'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_using_subcommand ctl; and not __fish_seen_subcommand_from status check drain resume" -f -a "drain" -d 'Drain every service (or SERVICE): announce with the GRACEFUL_SHUTDOWN community and local preference 0 for its --drain-time, then withdraw (DRAINED) until resumed'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_using_subcommand ctl; and not __fish_seen_subcommand_from status check drain resume" -f -a "resume" -d 'Take back a drain asked for with `ctl drain` (a --drain-file still holds its own): the service starts again from INIT'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_using_subcommand ctl; and __fish_seen_subcommand_from status" -l socket -d 'The plugin\'s control socket (its --control-socket)' -r -F
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_using_subcommand ctl; and __fish_seen_subcommand_from status" -l json -d 'Print the plugin\'s answer as it came, one JSON object, instead of text'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_using_subcommand ctl; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_using_subcommand ctl; and __fish_seen_subcommand_from check" -l socket -d 'The plugin\'s control socket (its --control-socket)' -r -F
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_using_subcommand ctl; and __fish_seen_subcommand_from check" -l json -d 'Print the plugin\'s answer as it came, one JSON object, instead of text'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_using_subcommand ctl; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_using_subcommand ctl; and __fish_seen_subcommand_from drain" -l timeout -d 'With --wait: give up after this long (exit 1) [default: the longest --drain-time of the services drained, plus 30 s]' -r
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_using_subcommand ctl; and __fish_seen_subcommand_from drain" -l socket -d 'The plugin\'s control socket (its --control-socket)' -r -F
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_using_subcommand ctl; and __fish_seen_subcommand_from drain" -l wait -d 'Return only once every service drained is DRAINED (its routes withdrawn)'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_using_subcommand ctl; and __fish_seen_subcommand_from drain" -l json -d 'Print the plugin\'s answer as it came, one JSON object, instead of text'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_using_subcommand ctl; and __fish_seen_subcommand_from drain" -s h -l help -d 'Print help'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_using_subcommand ctl; and __fish_seen_subcommand_from resume" -l socket -d 'The plugin\'s control socket (its --control-socket)' -r -F
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_using_subcommand ctl; and __fish_seen_subcommand_from resume" -l json -d 'Print the plugin\'s answer as it came, one JSON object, instead of text'
complete -c exabgp-healthcheck -n "__fish_exabgp_healthcheck_using_subcommand ctl; and __fish_seen_subcommand_from resume" -s h -l help -d 'Print help'
