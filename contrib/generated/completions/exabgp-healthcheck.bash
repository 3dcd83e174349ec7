_exabgp__healthcheck() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="exabgp__healthcheck"
                ;;
            exabgp__healthcheck,ctl)
                cmd="exabgp__healthcheck__subcmd__ctl"
                ;;
            exabgp__healthcheck__subcmd__ctl,check)
                cmd="exabgp__healthcheck__subcmd__ctl__subcmd__check"
                ;;
            exabgp__healthcheck__subcmd__ctl,drain)
                cmd="exabgp__healthcheck__subcmd__ctl__subcmd__drain"
                ;;
            exabgp__healthcheck__subcmd__ctl,resume)
                cmd="exabgp__healthcheck__subcmd__ctl__subcmd__resume"
                ;;
            exabgp__healthcheck__subcmd__ctl,status)
                cmd="exabgp__healthcheck__subcmd__ctl__subcmd__status"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        exabgp__healthcheck)
            opts="-s -d -a -n -F -p -i -f -t -c -N -h -V --silent --syslog-facility --no-syslog --debug --log-format --no-ack --sudo --name --config --pid --user --group --control-socket --watchdog --bfd --bfd-local --bfd-interval --bfd-multiplier --interval --fast-interval --timeout --rise --fall --splay --disable --cmd --command --check --next-hop --ip --ip-ifname --local-preference --deaggregate-networks --no-ip-setup --dynamic-ip-setup --label --label-exact-match --start-ip --up-metric --down-metric --disabled-metric --increase --community --extended-community --large-community --disabled-community --as-path --up-as-path --down-as-path --disabled-as-path --withdraw-on-down --path-id --neighbor --debounce --api-version --execute --up-execute --down-execute --disabled-execute --drain-file --drain-time --drain-community --drain-local-preference --metric-from --metric-step --metric-hysteresis --metric-hold --dampening --dampening-half-life --dampening-suppress --dampening-reuse --dampening-max-suppress --dry-run --once --metrics-file --metrics-listen --help --version ctl"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --syslog-facility)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log-format)
                    COMPREPLY=($(compgen -W "text json" -- "${cur}"))
                    return 0
                    ;;
                --name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -n)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -F)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --pid)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -p)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --group)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --control-socket)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --watchdog)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --bfd)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --bfd-local)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --bfd-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --bfd-multiplier)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -i)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --fast-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -f)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -t)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rise)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --fall)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --disable)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --command)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --cmd)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -c)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --check)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --next-hop)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -N)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ip)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ip-ifname)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --local-preference)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --label)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --start-ip)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --up-metric)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --down-metric)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --disabled-metric)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --increase)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --community)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --extended-community)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --large-community)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --disabled-community)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --as-path)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --up-as-path)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --down-as-path)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --disabled-as-path)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --path-id)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --neighbor)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --api-version)
                    COMPREPLY=($(compgen -W "4 6" -- "${cur}"))
                    return 0
                    ;;
                --execute)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --up-execute)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --down-execute)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --disabled-execute)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --drain-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --drain-time)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --drain-community)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --drain-local-preference)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --metric-from)
                    COMPREPLY=($(compgen -W "latency output" -- "${cur}"))
                    return 0
                    ;;
                --metric-step)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --metric-hysteresis)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --metric-hold)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dampening-half-life)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dampening-suppress)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dampening-reuse)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dampening-max-suppress)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --metrics-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --metrics-listen)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        exabgp__healthcheck__subcmd__ctl)
            opts="-h -V --socket --json --help --version status check drain resume"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --socket)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        exabgp__healthcheck__subcmd__ctl__subcmd__check)
            opts="-h --socket --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --socket)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        exabgp__healthcheck__subcmd__ctl__subcmd__drain)
            opts="-h --wait --timeout --socket --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --socket)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        exabgp__healthcheck__subcmd__ctl__subcmd__resume)
            opts="-h --socket --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --socket)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        exabgp__healthcheck__subcmd__ctl__subcmd__status)
            opts="-h --socket --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --socket)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
    esac
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _exabgp__healthcheck -o nosort -o bashdefault -o default exabgp-healthcheck
else
    complete -F _exabgp__healthcheck -o bashdefault -o default exabgp-healthcheck
fi
