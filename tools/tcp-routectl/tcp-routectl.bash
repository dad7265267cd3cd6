# bash completion for tcp-routectl — source it, or install it as
# /usr/share/bash-completion/completions/tcp-routectl
_tcp_routectl() {
  local cur prev words cword
  _init_completion 2>/dev/null || {
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD
  }
  local commands="status agents agent zone release paths path flows explain stats classes reload events commands xdp"
  local zones="TRUSTED MONITORED QUARANTINED ISOLATED"
  case $prev in
    --socket) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --zone) COMPREPLY=($(compgen -W "$zones" -- "$cur")); return ;;
    --mode) COMPREPLY=($(compgen -W "native generic" -- "$cur")); return ;;
    --bpffs) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    --pcap|--payload-file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --proto) COMPREPLY=($(compgen -W "tcp udp" -- "$cur")); return ;;
  esac
  # The command: the first word that is not an option or an option's value.
  local cmd="" sub="" i
  for ((i = 1; i < cword; i++)); do
    case ${words[i]} in
      --socket|--bpffs|--mode|--zone|--top|--last|--ttl|--class|--agent|--src|--dst|--sport|--dport|--proto|--payload|--payload-file|--frame|--pcap|--index|--port) ((i++)) ;;
      -*) ;;
      *) if [[ -z $cmd ]]; then cmd=${words[i]}; elif [[ -z $sub ]]; then sub=${words[i]}; fi ;;
    esac
  done
  case $cmd in
    "") COMPREPLY=($(compgen -W "$commands --socket --json --help" -- "$cur")) ;;
    agents) COMPREPLY=($(compgen -W "--zone --top --json" -- "$cur")) ;;
    zone) [[ -z $sub ]] && COMPREPLY=($(compgen -W "set" -- "$cur")) ||
            COMPREPLY=($(compgen -W "$zones --ttl" -- "$cur")) ;;
    path) [[ -z $sub ]] && COMPREPLY=($(compgen -W "up down" -- "$cur")) ;;
    events) COMPREPLY=($(compgen -W "--last --follow --json" -- "$cur")) ;;
    flows) COMPREPLY=($(compgen -W "--top --class --agent --json" -- "$cur")) ;;
    explain) COMPREPLY=($(compgen -W "--proto --src --sport --dst --dport --payload --payload-file --frame --pcap --index --port --json" -- "$cur")) ;;
    xdp) if [[ -z $sub ]]; then COMPREPLY=($(compgen -W "attach detach status" -- "$cur"))
         elif [[ $sub == attach || $sub == detach ]]; then
           COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null) --mode --bpffs" -- "$cur"))
         else COMPREPLY=($(compgen -W "--bpffs --json" -- "$cur")); fi ;;
    *) COMPREPLY=($(compgen -W "--json" -- "$cur")) ;;
  esac
}
complete -F _tcp_routectl tcp-routectl
