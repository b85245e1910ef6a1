//! Sightline's own signature rules, beside libinjection (see [`super::inspect`]): path
//! traversal and command injection (which libinjection does not look for), the SQL
//! injection and XSS forms libinjection lets through, scanner tools by user agent, and
//! prompt-injection phrases.
//!
//! The patterns look for what an attack needs (a quote closing a string before a
//! boolean test, a tag with an event handler, `../` climbing out of a folder, a shell
//! separator before a command), never for single words, so ordinary names, addresses,
//! sentences and API traffic pass clean. The `detection` bench measures them on public
//! corpora they were not written from.

use std::sync::LazyLock;

use regex::bytes::{RegexSet, RegexSetBuilder};
use sightline_tracker::wire::{Severity, ThreatType};

/// What a detection reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Threat {
    pub threat_type: ThreatType,
    pub severity: Severity,
    pub what: &'static str,
}

pub const LIBINJECTION_SQLI: Threat = Threat {
    threat_type: ThreatType::SqlInjection,
    severity: Severity::High,
    what: "SQL injection (libinjection)",
};
pub const LIBINJECTION_XSS: Threat = Threat {
    threat_type: ThreatType::Xss,
    severity: Severity::High,
    what: "cross-site scripting (libinjection)",
};
const SQLI: Threat = Threat {
    threat_type: ThreatType::SqlInjection,
    severity: Severity::High,
    what: "SQL injection pattern",
};
const XSS: Threat = Threat {
    threat_type: ThreatType::Xss,
    severity: Severity::High,
    what: "cross-site scripting pattern",
};
const TRAVERSAL: Threat = Threat {
    threat_type: ThreatType::PathTraversal,
    severity: Severity::High,
    what: "path traversal pattern",
};
const COMMAND: Threat = Threat {
    threat_type: ThreatType::SuspiciousContent,
    severity: Severity::Critical,
    what: "command injection pattern",
};
pub const SCANNER: Threat = Threat {
    threat_type: ThreatType::Scanner,
    severity: Severity::Medium,
    what: "scanning tool",
};
const PROMPT: Threat = Threat {
    threat_type: ThreatType::PromptInjection,
    severity: Severity::Medium,
    what: "prompt-injection phrase",
};

struct Rule {
    threat: Threat,
    set: RegexSet,
}

/// Room for the lazy DFA of a whole rule set, so that long values never fall back to
/// the slow matcher.
const DFA_BYTES: usize = 64 << 20;

/// Patterns are ASCII-only and case-insensitive, matched on bytes: far smaller automata
/// than Unicode classes give, and attack syntax is ASCII.
fn rule(threat: Threat, patterns: &[&str]) -> Rule {
    let set = RegexSetBuilder::new(patterns)
        .case_insensitive(true)
        .unicode(false)
        .dfa_size_limit(DFA_BYTES)
        .size_limit(DFA_BYTES)
        .build()
        .expect("detection patterns compile");
    Rule { threat, set }
}

/// Commands an injected shell line runs, which are not also everyday words.
const COMMANDS: &str = r"(whoami|uname|ifconfig|ipconfig|netstat|nslookup|wget|curl|nc|ncat|netcat|socat|telnet|bash|sh|zsh|dash|ksh|csh|tcsh|powershell|pwsh|cmd|certutil|bitsadmin|systeminfo|tasklist|taskkill|netsh|wmic|mshta|rundll32|regsvr32|cscript|wscript|python[23]?|perl|ruby|php|node|lua|base64|xxd|chmod|chown|chgrp|crontab|mkfifo|mknod|nohup|sudo|passwd|useradd|usermod|ls|pwd|env|printenv|ping|traceroute|tracert|hostname|arp|lsof|gcc\d*|c89|c99|scp|ssh|tftp|nmap|gawk|egrep|xargs|uptime|getent|iwr|iex|irm|iwmi|regedit|bcdboot|bcdedit|schtasks|vssadmin|wevtutil|icacls|takeown|xcopy|robocopy|diskpart|lastlog|lastlogin|htop|aptitude|apt-get|yum|dnf|rpm|dpkg|perf|gdb|strace|ltrace|busybox|visudo|ansible[\w-]*|chef-[\w-]+|cscli|rmt[\w-]*|flock|cpulimit|irb|chroot|systemctl|journalctl|iptables|userdel|killall|pkill|tcpdump|openssl|ssh-keygen|bsdtar|rsync|gunzip)";
/// Commands that are also words or locale codes (`cat`, `more`, `id`): after a separator they count
/// only with a shell-looking argument (`; cat /etc/passwd`, `| type c:\x`) or nothing.
const WORD_COMMANDS: &str = r"(id|ps|rm|cat|dir|type|ver|net|find|kill|touch|head|tail|more|less|wc|cp|mv|mkdir|cd|set|export|del|copy|start|echo|printf|sleep|timeout|tar|awk|sed|grep|ftp|route|sort|nl|od|diff|file|which|who|last|w)";

/// Sensitive files by name: what traversal climbs to, and what scanners ask for
/// directly.
const SENSITIVE_FILES: &str = r"((^|[\s/\\=:'\x22(])(etc/(passwd|shadow|group|gshadow|hosts|hostname|issue|motd|crontab|sudoers|fstab|resolv\.conf|ssh/|mysql/|httpd/|apache2?/|nginx/|php\d*/|subuid|subgid)|proc/(self|\d+|net|version|cpuinfo|meminfo|mounts|interrupts)\b|sys/(class|kernel|devices)\b|var/(log|lib/mysql|mail|spool)/|usr/local/(etc|apache\d*|nginx)/)|\b(boot|win|system|desktop)\.ini\b|\bglobal\.asa\b|\bweb\.config\b|\bweb-inf/|\bmeta-inf/|\bwp-config\.php\b|[/\\]\.(ssh|aws|git|svn|hg|env|docker|kube|gnupg|npmrc|pypirc|netrc|pgpass|my\.cnf|bash_history|bashrc|bash_profile|profile|zshrc|viminfo|lesshst|zsh_history|mysql_history|htpasswd|htaccess|ds_store|claude|cursor|continue|aider|roo|zed|cline|kiro|windsurf|codex|opencode|vscode|idea|a0proj|plandex|rovodev|aiignore|cursorignore)\b|\b(id_rsa|id_dsa|id_ecdsa|id_ed25519|authorized_keys|known_hosts)\b|\b[a-z]:[\\/]+(windows|winnt|inetpub|xampp|wamp|apache|program\s?files|documents\sand\ssettings|users|boot\.ini)\b|[\\/](access|error|debug|errors)[._]log\b|%(systemroot|windir|comspec)%)";

/// Patterns of one decoded value (query name or value, path, header value).
static VALUE_RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    const Q: &str = r#"(['"`]|´|’|‘|′)"#;
    let sqli = [
        // UNION-based: union select, union all select, union distinct (select
        r"\bunion\b[\s(]*(all|distinct)?[\s(]*select\b".to_string(),
        // A quote closing the string, then a boolean test: ' or 1=1, ") and ("a"="a
        format!(r#"{Q}\s*\)*\s*(or|and|xor|&&|\|\||having|where)\b\s*[(!]*\s*(not\s+)?(({Q}[^'"`]*{Q}|[\w@.$-]+)\s*(=|<>|!=|<=>|>=|<=|<|>|\blike\b|\brlike\b|\bregexp\b|\bsounds\s+like\b|\bglob\b|\bbetween\b|\bis\s+(not\s+)?null\b|\bin\s*\(|\bnotnull\b|\bisnull\b|\bcollate\b)|(true|false|null|\d+)\s*(--|#|/\*|;|\)|$)|(exists|select|sleep|benchmark|pg_sleep|extractvalue|updatexml|if|case|ascii|substring|char|ord|length)\b\s*\(?)"#),
        // A quote closing the string, then a comment or another statement: admin'--, '#
        format!(r#"{Q}\s*\)*\s*(--(\s|$|[-+])|#\s*$|/\*|;\s*(--|#|(select|insert|update|delete|drop|create|alter|exec|execute|declare|shutdown|waitfor|truncate)\b))"#),
        format!(r"{Q}\s*(!=|<>|<=>|=)\s*{Q}\w|{Q}(\s*::\s*jsonb?)?\s*(->>?|#>>?|@>|<@|\?\||\?&|@\?|@@|#-)\s*['\d]|\w\s*::\s*(int|integer|bigint|bool|boolean|jsonb?|text|varchar|regclass|oid)\b|\b\d+\.e\s*[(.]\s*\w|\[\s*\$(ne|eq|gt|gte|lt|lte|in|nin|regex|where|exists|expr|elemmatch)\s*\]|['\x22]\$(ne|gt|gte|lt|regex|where|expr)['\x22]\s*:|\bexecute\s+immediate\b|\bhaving\s+count\s*\(|\bgroup\s+by\s+\w+\s+having\b|\bselect\s+pg_sleep\b"),
        format!(r"{Q}\s*(collate|is\s+(not\s+)?null|notnull|isnull|in\s*\(\s*select|\|\|\s*\(?\s*select|\|\|\s*\w+\s*\()"),
        // Boolean tests on numbers and bare words: 1 and 5831=5831, or x=x, having 1=1
        r#"(^|[\s(])(or|and|xor|having|where|&&|\|\|)\s+\(?\s*(\d+(\.\d+)?|[a-z_]\w{0,15}|'[^']*'|"[^"]*")\s*(=|<>|!=|<=>|>=|<=|<|>)\s*\(?\s*(\d|'|"|[a-z_]\w{0,15}\b\s*(\)|--|#|;|$|\s(or|and)\b))"#.to_string(),
        r"(^|[\s(])(or|and)\s+((not\s+)?(true|false|null)\s*(--|#|/\*|;|\)|$)|\d+\s*(--|#|/\*))".to_string(),
        // Column probing: order by 3--, group by 1#
        r"\b(order|group)\s+by\s+\d+\s*(--|#|/\*|;|\)|,\s*\d|$)".to_string(),
        // Statements an injection appends: ; drop table, ; exec xp_cmdshell
        r"\b(insert\s+into\s+[\w.`\x22\[]+\s*(\(|values\b|select\b)|update\s+[\w.`\x22\[]+\s+set\s+[\w`\x22\[]+\s*=|delete\s+from\s+[\w.`\x22\[]+|drop\s+(table|database|schema|user|view|procedure|function|index)\b|create\s+(table|user|database|function|procedure|trigger)\s+\w|alter\s+(table|user|database)\s+[\w`\x22\[]|truncate\s+table\b|exec(ute)?\s*\(?\s*(xp_|sp_|master\.|@)|declare\s+@\w+|waitfor\s+(delay|time)\b|grant\s+(all|select|connect|resource|dba)\b[^;]*\bto\b|shutdown\s+with\s+nowait|copy\s+\w+\s+(to|from)\s+(program\b|'/))".to_string(),
        // Queries on the catalog and SQL-only values: select @@version, from dual
        r"\bselect\s+(\*|@@\w|null\b|\d+\s*(,|from\b|--|#|$)|top\s+\d|(count|concat|group_concat|char|version|user|database|schema|current_user|session_user|system_user|load_file|substr|substring|ascii|sleep|pg_sleep|benchmark|convert|cast|extractvalue|updatexml|name_const)\s*\()".to_string(),
        r"\b(information_schema|pg_catalog|pg_shadow|pg_user|pg_group|sysobjects|syscolumns|sysusers|sysdatabases|master\.\.sys\w+|mysql\.user|all_tables|user_tables|dba_users|v\$version|msysaccessobjects|sqlite_master)\b".to_string(),
        r"\bfrom\s+dual\b|@@(version|servername|hostname|datadir|basedir|identity|spid|language|microsoftversion)\b|\b(current_user|session_user|system_user|database|version|schema)\s*\(\s*\)".to_string(),
        // Functions of blind and error-based probes
        r"\b(sleep|pg_sleep|benchmark|extractvalue|updatexml|load_file|dbms_pipe\.receive_message|dbms_lock\.sleep|utl_inaddr\.get_host_(name|address)|utl_http\.request|ctxsys\.drithsx\.sn|xp_cmdshell|xp_dirtree|sp_executesql|sp_oacreate|sp_makewebtask|name_const|make_set|gtid_subset|json_keys|randomblob|geometrycollection|json_extract|jsonb_pretty|json_build_object|unistr|lo_import|lo_export|lo_get|sqlite_compileoption_(used|get)|find_in_set|xmltype|sys_context|pg_read_file|pg_ls_dir|current_setting|query_to_xml|database_to_xml)\s*\(".to_string(),
        r"\belt\s*\(\s*\d+\s*=|(^|[^a-z0-9_\x80-\xff])(char|chr|nchar|concat|concat_ws|group_concat|unhex|ascii|ord|substring|substr|mid|cast|convert|count|length|exp|floor|if|iif|ifnull|coalesce)\s*\(\s*(0x[0-9a-f]+|\d+\s*[,)|=]|~|\(*\s*select\b|rand\s*\()".to_string(),
        r"\bcase\s+when\b.{1,100}\bthen\b|\bprocedure\s+analyse\b|\binto\s+(out|dump)file\b|\blimit\s+\d+\s*,\s*\d+\s*(--|#|;|$)|(=|<|>|\bin\b|\blike\b|\brlike\b|\bregexp\b)\s*\(\s*select\b|\bnull\s*,\s*null\b".to_string(),
    ];
    let xss = [
        r"<\s*/?\s*(script|iframe|frame|frameset|object|embed|applet|meta|base|link|style|svg|math|xss|import|vmlframe|x:script|animation|set|handler|listener)\b",
        r"<[^>]*[\s/\x22'](on[a-z]{3,}|formaction|srcdoc|xlink:href|fscommand|seeksegmenttime)\s*=",
        r#"['"`]\s*(autofocus\s*)?/?\s*on[a-z]{3,}\s*="#,
        r"(^|[\s=/:;\x22'`(])on[a-z]{3,}\s*=\s*[\x22'`]?\s*[\w.$]+\s*[(`=]",
        r"(j|&#0*(106|x0*6a);?)[\s\x00]*(a|&#0*(97|x0*61);?)[\s\x00]*(v|&#0*(118|x0*76);?)[\s\x00]*(a|&#0*(97|x0*61);?)[\s\x00]*(s|&#0*(115|x0*73);?)[\s\x00]*(c|&#0*(99|x0*63);?)[\s\x00]*(r|&#0*(114|x0*72);?)[\s\x00]*(i|&#0*(105|x0*69);?)[\s\x00]*(p|&#0*(112|x0*70);?)[\s\x00]*(t|&#0*(116|x0*74);?)[\s\x00]*(:|&#0*(58|x0*3a);?|&colon;)",
        r"\b(vbscript|livescript|mocha)\s*:|\bdata\s*:\s*(text/html|image/svg|application/(x-)?(javascript|ecmascript|xhtml))",
        r"\b(document|window|top|self|parent|this)\s*\.\s*(cookie|domain|location|write|writeln|body|createelement|queryselector|getelementby\w*|open|eval|name)\b",
        r"\b(alert|confirm|prompt|eval|settimeout|setinterval|fetch|atob|btoa)\s*(\(\s*[\w\x22'`/.$)]|`)|\bnew\s+function\s*\(|\.(call|apply|bind)\s*`|\$\{\s*(alert|eval|prompt|confirm)\b",
        r"\b(window|document|self|top|parent|this|globalthis|frames)\s*(/\*.*?\*/)?\s*\)?\s*\[\s*['\x22`]|!!?\[\]|\+adw-|<\s*%|¼\s*/?\s*script|<\s*[a-z]+:[a-z]+|<!--\s*#\s*(exec|echo|include|set|config|printenv)\b",
        r"-moz-binding|\bexpression\s*\(|\bbehavior\s*:\s*url|@import\b|\burl\s*\(\s*['\x22]?\s*(javascript|vbscript|data)\s*:|constructor\s*\.\s*constructor|\bsrc\s*=\s*['\x22]?\s*(https?:)?//|<\s*[a-z]+[^>]*\s(src|href|action|data)\s*=\s*['\x22]?\s*(javascript|vbscript|data)\s*:",
    ];
    let traversal = [
        // ../, ..\, ..;/, .../, ..%00/, and encodings servers decode
        r"(^|[/\\=:\s;'\x22]|%2e)\.{2,}[/\\;\x00]",
        r"\.{2,}[/\\]|[/\\]\.\.([/\\]|$)|\.\.(0x|%)?(2f|5c)|(0x2e){2}(0x2f|0x5c|[^\w])|(\.\.[^\w\s.]{1,4}){2,}|(\.[/\\]+){3,}|[/\\]\\[/\\]|\bLi4v(Li4v|Li4u|Li8)+",
        r"^\s*(/(etc|var|usr|opt|proc|sys|root|boot|dev|srv|bin|sbin|lib|lib64)/|[a-z]:\\)",
        SENSITIVE_FILES,
        r"\x00|\b(file|php|phar|zip|expect|glob|jar|netdoc|compress\.zlib)://",
    ];
    let command = [
        // A separator, then a command: ; id, | whoami, && curl, `ls`, $(cat …), newline
        format!(r"([;|&`\n\r]|\\[nr]|\$\(|\|\||&&)\s*['\x22]?\s*{COMMANDS}\b"),
        format!(r"([;|&`\n\r]|\\[nr]|\$\(|\|\||&&)\s*['\x22]?\s*{WORD_COMMANDS}(\s+['\x22]?(-\w|/|~|\.{{1,2}}/|\$|[a-z]:\\|%\w+%|\d+\s*($|[;|&`)]))|\s*($|[;|&`)<>]))"),
        format!(r"^\s*({COMMANDS}|{WORD_COMMANDS})\s+(-\w|/|~|\.{{1,2}}/|\$|[a-z]:\\)|^\s*{COMMANDS}\s+(https?|ftp)://|^\s*(sleep|timeout)\s+\d+\s*$|\bwhich\s+{COMMANDS}\b"),
        r"\bnet(\.exe)?\s+(user|localgroup|group|view|share|use|accounts|session|start|stop)\b|\bnetsh\s+(firewall|advfirewall|interface|wlan)\b|\breg(\.exe)?\s+(add|delete|query|save|export)\s+['\x22]?hk(lm|cu|cr|u|ey)".to_string(),
        format!(r"\{{\s*({COMMANDS}|{WORD_COMMANDS})\s*,|\{{,\w+|\w\{{[\w-]*,[\w-]*\}}\w"),
        // Wrappers and expansions: time sh -c, $(cat…), <(cat f), ${x#…}, \\ls, alias a=…
        format!(r"^\s*\\?['\x22]?(time|strace|nohup|nice|busybox|exec|env|timeout)['\x22]?\s+({COMMANDS}|{WORD_COMMANDS})\b|(\$\(|`|[<>]\()\s*({COMMANDS}|{WORD_COMMANDS})\b|^\s*\\({COMMANDS}|{WORD_COMMANDS})\b|\$\{{\w+[#%:/^,@]|(^|[;&|]\s*)alias\s+[^=]*=|\(\s*(sh|bash|zsh)\s*\)|^\s*\(\)\s*\{{|\b(invoke-(webrequest|expression|restmethod|command|item)|get-wmiobject|start-process|new-object\s+(system\.)?net\.webclient|downloadstring|downloadfile)\b"),
        // Binaries by path, glob and quote tricks: /bin/sh, /usr/bin/id, /???/??t
        r"(^|[\s;|&`'\x22(=])(/usr|/usr/local)?/s?bin/[\w\[\]?*]+|(^|[\s;|&`(])/[\w?*\[\]]*[?*\[\]][\w?*\[\]]*/".to_string(),
        // Shell syntax an ordinary value does not hold
        r"\$\{?ifs\b|\$\{(path|home|shell|user|pwd)(:\d+:?\d*)?\}|\$'\\x[0-9a-f]|\(\)\s*\{\s*:?\s*;?\s*\}\s*;|/dev/(tcp|udp)/|\b(nc|ncat|netcat)\b.{0,40}\s-[ec]\s|\bcmd(\.exe)?\s*/[ck]\b|\b(powershell|pwsh)(\.exe)?\s+-|%(comspec|systemroot|windir)%|\$\(\(|\$\[".to_string(),
        // cmd.exe batch syntax: for /f … in (…) do, if exist, if %x% equ
        r"\bfor\s+(/[dflr]\b.*?\s)?%%?[\w~/]+\s+in\s*\(.*\)\s*do\b|\bif\s+(/i\s+)?(not\s+)?(exist|errorlevel|defined|\S+\s+(equ|neq|lss|leq|gtr|geq)\s|\S+\s*==)".to_string(),
        // Code evaluation: eval('…'), system($_GET…), {{7*7}}, <?php
        r#"\b(system|exec|shell_exec|passthru|popen|proc_open|pcntl_exec|eval|assert)\s*\(\s*['"$`]|<\?php|\{\{\s*\d+\s*[*+/-]\s*\d+\s*\}\}|\$\{\s*\d+\s*[*+/-]\s*\d+\s*\}|\{\$\{\w+\(\)\}\}|\$\{\s*`|\$\{@?\w+\s*\(|\b(phpinfo|phpversion|php_uname)\s*\(|\{%\s*(for|if|set|import|include|extends|macro)\b|\b__\s*(class|base|bases|subclasses|globals|builtins|mro|init)\s*__\b"#.to_string(),
    ];
    vec![
        rule(SQLI, &sqli.iter().map(String::as_str).collect::<Vec<_>>()),
        rule(XSS, &xss),
        rule(TRAVERSAL, &traversal),
        rule(
            COMMAND,
            &command.iter().map(String::as_str).collect::<Vec<_>>(),
        ),
    ]
});

/// The sensitive-file rule alone, for paths of plain segments.
static PATH_RULE: LazyLock<Rule> = LazyLock::new(|| rule(TRAVERSAL, &[SENSITIVE_FILES]));

/// Every threat the rules find in `text`, a decoded value.
pub fn value_threats(text: &str) -> impl Iterator<Item = Threat> + '_ {
    VALUE_RULES
        .iter()
        .filter(move |r| r.set.is_match(text.as_bytes()))
        .map(|r| r.threat)
}

/// The threats of a path of plain segments (no `..`, nothing to decode).
pub fn path_threats(path: &str) -> Option<Threat> {
    PATH_RULE
        .set
        .is_match(path.as_bytes())
        .then_some(PATH_RULE.threat)
}

/// Commands a probe sends alone as a value, to see whether it reaches a shell.
const BARE_COMMANDS: [&str; 9] = [
    "whoami",
    "ifconfig",
    "ipconfig",
    "systeminfo",
    "netstat",
    "uname",
    "sysinfo",
    "phpinfo",
    "tasklist",
];

/// Shellshock (`() { :; };`), the one command injection a user agent carries: its
/// `;`-separated product tokens would set off the other command rules.
pub fn is_shellshock(text: &str) -> bool {
    static SHELLSHOCK: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(r"\(\)\s*\{").expect("the shellshock pattern compiles"));
    SHELLSHOCK.is_match(text)
}

/// The command-injection threat when a plain value is one of [`BARE_COMMANDS`].
pub fn bare_command(value: &str) -> Option<Threat> {
    BARE_COMMANDS
        .iter()
        .any(|c| c.eq_ignore_ascii_case(value.trim()))
        .then_some(COMMAND)
}

/// Known scanning and attack tools, by user agent.
static SCANNER_AGENTS: LazyLock<Rule> = LazyLock::new(|| {
    rule(
        SCANNER,
        &[
            r"\b(sqlmap|nikto|nmap|masscan|zgrab|nuclei|dirbuster|gobuster|wpscan|acunetix|nessus|openvas|w3af|havij|fimap|ffuf|feroxbuster|wfuzz|arachni|netsparker|jaeles|whatweb|commix|dotdotpwn|xsstrike)\b",
        ],
    )
});

pub fn is_scanner(user_agent: &str) -> bool {
    SCANNER_AGENTS.set.is_match(user_agent.as_bytes())
}

/// Phrases that try to override a model's instructions.
static PROMPT_RULES: LazyLock<Rule> = LazyLock::new(|| {
    rule(
        PROMPT,
        &[
            r"\b(ignore|disregard|forget|override|bypass|skip)\b.{0,40}\b(previous|prior|above|earlier|preceding|initial|original|system|all|your|any)\b.{0,25}\b(instructions?|prompts?|rules|directions|guidelines|directives?|tasks|context|messages|polic(y|ies)|programming|training)\b",
            r"\b(ignore|disregard|forget)\s+(everything|all)\s+(above|before|prior|previous|i\s+said|we\s+discussed|you\s+were\s+told)",
            r"\b(you\s+are\s+now|you\s+now|from\s+now\s+on,?\s+(you|respond)|pretend\s+(that\s+)?you|act\s+as|behave\s+as)\b.{0,60}\b(no|without|free\s+(of|from)|not\s+bound\s+by)\s+(any\s+)?(rules|restrictions|limits|limitations|filters?|guidelines|content\s+polic(y|ies)|censorship|ethics)\b",
            r"\byou\s+are\s+(now|no\s+longer)\b.{0,40}\b(dan|jailbroken|unrestricted|unfiltered|uncensored|a\s+support\s+bot|an?\s+ai\s+assistant)\b",
            r"\b(reveal|show|print|repeat|output|leak|display|tell\s+me|dump|give\s+me|verbatim)\b.{0,40}\b(system\s+(prompt|message|instructions?)|your\s+(initial|hidden|original|secret|exact)?\s*(instructions|prompt|rules|guidelines|configuration)|instructions\s+you\s+were\s+given|internal\s+(configuration|data|instructions)|context\s+window)\b",
            r"\brepeat\s+the\s+(words|text)\s+above\b|\bdo\s+anything\s+now\b|\bsupersedes?\s+all\s+(prior|previous)\b",
            r"\b(enable|activate|enter|switch\s+to|in|now\s+in)\s+(developer|god|jailbreak|dan|unrestricted|debug)\s+mode\b|\bdeveloper\s+mode\s+(enabled|on)\b",
            r"<\|im_start\|>\s*system|\[system\]|\bsystem\s+(note|update|override|instruction|message)\s*:|\bnew\s+(instructions?|directives?|rules)\s*:|###\s*end\s+of\s+(user\s+)?(input|prompt)",
            r"\b(safety|content|security)\s+(protocols?|filters?|polic(y|ies)|rules|guidelines)\s+(are\s+|have\s+been\s+)?(disabled|off|removed|lifted|suspended)\b|\b(bypass|override|disable)\s+(your|the|all)\s+(safety|content|security)\s+(filters?|guidelines|rules|restrictions)",
            r"\b(decode|translate)\b.{0,40}\b(base64|rot13)\b.{0,60}\b(do|follow|execute|obey)\b",
            r"\b(ignor(iere|ez|a|are)|vergiss|oubliez|oublie|olvida|dimentica)\b.{0,30}\b(anweisungen|richtlinien|regeln|instructions|consignes|istruzioni|instrucciones|alles|tout|todo|tutto)\b",
        ],
    )
});

/// The prompt-injection rule, when `prompt` matches it.
pub fn prompt_injection(prompt: &str) -> Option<Threat> {
    PROMPT_RULES
        .set
        .is_match(prompt.as_bytes())
        .then_some(PROMPT)
}
