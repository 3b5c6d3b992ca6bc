# Start the local servers the integration tests talk to, where they are installed but
# not running. Sourced by .ci/run.
ensure_services() {
    if command -v pg_ctlcluster >/dev/null && ! pg_isready -q -h 127.0.0.1 2>/dev/null; then
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    fi
    if command -v redis-server >/dev/null && ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
        redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
    fi
    if command -v nats-server >/dev/null && ! (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null; then
        start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
            -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log || true
    fi
}
