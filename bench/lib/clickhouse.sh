# Sourced by the store benches: a clickhouse-server of Debian's ($CH_SERVER) on loopback.
# ch_start DIR HTTP TCP [EXTRA_XML]: config and users in DIR, the server started in the
# background (its pid in CH_STARTED_PID); returns 1 with its output printed when it does not
# answer within 30 s.
ch_start() {
  local d=$1 http=$2 tcp=$3
  mkdir -p "$d"
  cat >"$d/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$d/server.log</log><errorlog>$d/error.log</errorlog><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host><http_port>$http</http_port><tcp_port>$tcp</tcp_port>
  <path>$d/data/</path><tmp_path>$d/tmp/</tmp_path>
  <user_files_path>$d/user_files/</user_files_path><format_schema_path>$d/format_schemas/</format_schema_path>
  <mark_cache_size>268435456</mark_cache_size><max_concurrent_queries>50</max_concurrent_queries>
  <users_config>users.xml</users_config><default_profile>default</default_profile>
  <default_database>default</default_database><timezone>UTC</timezone>
  ${4:-}
</yandex>
EOF
  cat >"$d/users.xml" <<'EOF'
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
EOF
  "$CH_SERVER" --config-file="$d/config.xml" >"$d/out.log" 2>&1 &
  CH_STARTED_PID=$!
  for _ in $(seq 300); do
    curl -sf "http://127.0.0.1:$http/ping" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "clickhouse-server in $d did not start"
  cat "$d/out.log"
  return 1
}
