complete -c exabgp-healthcheck -l syslog-facility -d 'Log to syslog using FACILITY [default: daemon]. Also spelled -sF' -r
complete -c exabgp-healthcheck -l log-format -d 'How log lines look on the console: text (the reference\'s `LEVEL[healthcheck] message`) or json (one object per line: ts, level, service, msg, and fields such as from, to, rc, duration_ms). Syslog keeps the text [default: text]' -r -f -a "text\t''
json\t''"
complete -c exabgp-healthcheck -s n -l name -d 'Name for this healthchecker (in syslog: healthcheck-NAME)' -r
complete -c exabgp-healthcheck -s F -l config -d 'Read configuration from a file' -r -F
complete -c exabgp-healthcheck -s p -l pid -d 'Write the PID to FILE (removed at exit)' -r -F
complete -c exabgp-healthcheck -l user -d 'Switch to USER after setting up the addresses' -r
complete -c exabgp-healthcheck -l group -d 'Switch to GROUP after setting up the addresses' -r
complete -c exabgp-healthcheck -s i -l interval -d 'Time between checks; 0 exits after the first announcement' -r
complete -c exabgp-healthcheck -s f -l fast-interval -d 'Time between checks while a state change is about to occur (RISING, FALLING)' -r
complete -c exabgp-healthcheck -s t -l timeout -d 'Time the check command may take before it is killed and counted as failed; 0 = no limit. Hooks are bounded by it too' -r
complete -c exabgp-healthcheck -l rise -d 'Successful checks in a row before the service is considered up' -r
complete -c exabgp-healthcheck -l fall -d 'Failed checks in a row before the service is considered down' -r
complete -c exabgp-healthcheck -l disable -d 'While FILE exists, the service is considered disabled' -r -F
complete -c exabgp-healthcheck -s c -l command -l cmd -d 'Command to use for the health check (run with /bin/sh -c); none = always healthy' -r
complete -c exabgp-healthcheck -l check -d 'A native check, run without a fork: tcp://HOST:PORT, http://HOST[:PORT]/PATH (options #status=N, #body=TEXT), https://HOST[:PORT]/PATH (the same, verified against the system\'s roots; #insecure: not verified; #sni=NAME: the name sent and verified) or dns://SERVER[:PORT]/NAME[?type=TYPE] (option #expect=IP). HOST is an IP address or localhost. Repeatable; every check and --command must pass, all under one --timeout' -r
complete -c exabgp-healthcheck -s N -l next-hop -d 'Next hop to announce [default: self]' -r
complete -c exabgp-healthcheck -l ip -d 'Advertise this IP address or network (CIDR notation); repeatable. None: every non-loopback address found on lo' -r
complete -c exabgp-healthcheck -l ip-ifname -d 'Bind this IP address or network (also given with --ip) to the given interface, for example 192.0.2.1%eth0; repeatable' -r
complete -c exabgp-healthcheck -l local-preference -d 'Advertise with local preference P (-1: not sent)' -r
complete -c exabgp-healthcheck -l label -d 'Label of the addresses (lo:LABEL): set on the ones we add, and, with no --ip, selects the ones to advertise (by prefix)' -r
complete -c exabgp-healthcheck -l start-ip -d 'Index of the first IP in the list of IP addresses (the list is rotated)' -r
complete -c exabgp-healthcheck -l up-metric -d 'MED of the first IP when the service is up' -r
complete -c exabgp-healthcheck -l down-metric -d 'MED of the first IP when the service is down' -r
complete -c exabgp-healthcheck -l disabled-metric -d 'MED of the first IP when the service is disabled' -r
complete -c exabgp-healthcheck -l increase -d 'For each additional IP address, increase the MED by M' -r
complete -c exabgp-healthcheck -l community -d 'Announce with the supplied community' -r
complete -c exabgp-healthcheck -l extended-community -d 'Announce with the supplied extended community' -r
complete -c exabgp-healthcheck -l large-community -d 'Announce with the supplied large community' -r
complete -c exabgp-healthcheck -l disabled-community -d 'Announce with the supplied community (instead of --community) when down or disabled' -r
complete -c exabgp-healthcheck -l as-path -d 'Announce with the supplied AS path' -r
complete -c exabgp-healthcheck -l up-as-path -d 'Announce with the supplied AS path when the service is up' -r
complete -c exabgp-healthcheck -l down-as-path -d 'Announce with the supplied AS path when the service is down' -r
complete -c exabgp-healthcheck -l disabled-as-path -d 'Announce with the supplied AS path when the service is disabled' -r
complete -c exabgp-healthcheck -l path-id -d 'Path ID (ADD-PATH) to advertise for the routes' -r
complete -c exabgp-healthcheck -l neighbor -d 'Advertise only to the selected neighbors (* for all); repeatable' -r
complete -c exabgp-healthcheck -l api-version -d 'ExaBGP API to write: 4 (ExaBGP 3.4 to 5.x: `announce ...`, `neighbor A announce ...`) or 6 (`peer * announce ...`)' -r -f -a "4\t''
6\t''"
complete -c exabgp-healthcheck -l execute -d 'Execute CMD on each state change (STATE=<NAME> in its environment); repeatable' -r
complete -c exabgp-healthcheck -l up-execute -d 'Execute CMD when the service becomes available; repeatable' -r
complete -c exabgp-healthcheck -l down-execute -d 'Execute CMD when the service becomes unavailable; repeatable' -r
complete -c exabgp-healthcheck -l disabled-execute -d 'Execute CMD when the service is disabled; repeatable' -r
complete -c exabgp-healthcheck -l drain-file -d 'While FILE exists the service drains (RFC 8326): for --drain-time its routes are announced with --drain-community, --drain-local-preference and the down metric (DRAINING), then withdrawn (DRAINED; at once if nothing was announced); once FILE is gone it starts again from INIT. Wins over every other state, --disable too. Hooks: only --execute runs, with STATE=DRAINING or STATE=DRAINED' -r -F
complete -c exabgp-healthcheck -l drain-time -d 'How long DRAINING lasts before the routes are withdrawn' -r
complete -c exabgp-healthcheck -l drain-community -d 'Community added to the announcements while DRAINING (GRACEFUL_SHUTDOWN); one or more ASN:VALUE, separated by spaces' -r
complete -c exabgp-healthcheck -l drain-local-preference -d 'Local preference of the announcements while DRAINING (for iBGP receivers)' -r
complete -c exabgp-healthcheck -l metrics-file -d 'Write the metrics (Prometheus text format) to PATH after every check and transition, replaced atomically, for node_exporter\'s textfile collector; its folder must exist' -r -F
complete -c exabgp-healthcheck -l metrics-listen -d 'Serve the metrics over HTTP at ADDR:PORT (127.0.0.1:9876, [::1]:9876) on GET /metrics' -r
complete -c exabgp-healthcheck -s s -l silent -d 'Don\'t log to the console (stderr)'
complete -c exabgp-healthcheck -l no-syslog -d 'Disable syslog logging'
complete -c exabgp-healthcheck -s d -l debug -d 'Enable debugging (debug messages on the console; turns syslog off)'
complete -c exabgp-healthcheck -s a -l no-ack -d 'Do not expect ExaBGP to acknowledge each line (exabgp.api.ack=false): write without waiting for its answers. Without it, at most 16 lines wait for an answer, and never for long when none comes'
complete -c exabgp-healthcheck -l sudo -d 'Use sudo (`sudo -n ip address ...`) to add and remove the service addresses'
complete -c exabgp-healthcheck -l splay -d 'Wait a random time below --interval before the first check, so that a fleet restarted together does not check in step'
complete -c exabgp-healthcheck -l deaggregate-networks -d 'Announce every address of the --ip networks as its own /32 or /128 route'
complete -c exabgp-healthcheck -l no-ip-setup -d 'Don\'t set up missing addresses on the interfaces'
complete -c exabgp-healthcheck -l dynamic-ip-setup -d 'Remove the addresses when the service is down or disabled, set them up again when up'
complete -c exabgp-healthcheck -l label-exact-match -d 'Match --label exactly instead of as a prefix'
complete -c exabgp-healthcheck -l withdraw-on-down -d 'Withdraw the routes when the service is down or disabled, instead of raising the MED'
complete -c exabgp-healthcheck -l debounce -d 'Announce only on state changes, instead of at every check'
complete -c exabgp-healthcheck -l dry-run -d 'Run as usual but change no address and expect no acknowledgement: the lines go to stdout and each transition is explained on stderr'
complete -c exabgp-healthcheck -l once -d 'Run the check once, print the verdict, its output and the lines it would send, then exit: 0 healthy, 1 unhealthy, disabled or draining'
complete -c exabgp-healthcheck -s h -l help -d 'Print help'
complete -c exabgp-healthcheck -s V -l version -d 'Print version'
