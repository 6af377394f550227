//! A Heroku web dyno's shape, from Debian's packages: php-fpm (`pm = static`, a unix
//! socket, `clear_env = no`, `request_terminate_timeout = 30s`, workers' output caught)
//! behind nginx or Apache httpd (`mod_proxy_fcgi`), both in the foreground of one shell
//! with every log on its stderr, the dyno's log. Our own configuration, written for the
//! tests and the benchmarks; the boot scripts of the PHP buildpack are not copied.
//!
//! [`WebStack::write`] writes the configuration and a start script into a directory; the
//! caller runs that script in a dyno (after `.profile.d`, so php-fpm starts from the
//! environment boot made), in whichever runtime, and [`WebStack::wait_ready`] waits until
//! PHP answers through it.

use crate::http::http_get;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The web server in front of php-fpm, as `heroku-php-nginx` and `heroku-php-apache2` run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frontend {
    Nginx,
    Apache,
}

impl Frontend {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Frontend::Nginx => "nginx",
            Frontend::Apache => "apache",
        }
    }
}

/// The files of one web dyno's stack, in `dir`.
pub struct WebStack {
    pub port: u16,
    pub frontend: Frontend,
    dir: PathBuf,
}

/// Pool lines that set php.ini settings over every ini file.
fn php_admin_values(values: &[(&str, &str)]) -> String {
    let mut lines = String::new();
    for (name, value) in values {
        lines.push_str("php_admin_value[");
        lines.push_str(name);
        lines.push_str("] = ");
        lines.push_str(value);
        lines.push('\n');
    }
    lines
}

impl WebStack {
    /// Writes php-fpm's and the front end's configuration and `run.sh` into `dir`, serving
    /// `docroot` on `127.0.0.1:port` with `workers` PHP workers; `php_values` are php.ini
    /// settings the pool sets over every ini file.
    pub fn write(
        dir: &Path,
        docroot: &Path,
        port: u16,
        frontend: Frontend,
        workers: u32,
        php_values: &[(&str, &str)],
    ) -> WebStack {
        let d = dir.display();
        let docroot = docroot.display();
        let socket = format!("{d}/php-fpm.sock");
        let fpm = format!(
            "[global]\n\
             error_log = /proc/self/fd/2\n\
             log_limit = 8192\n\
             daemonize = no\n\
             [web]\n\
             listen = {socket}\n\
             listen.mode = 0666\n\
             pm = static\n\
             pm.max_children = {workers}\n\
             clear_env = no\n\
             request_terminate_timeout = 30s\n\
             catch_workers_output = yes\n\
             decorate_workers_output = no\n"
        ) + &php_admin_values(php_values);
        let nginx = format!(
            "daemon off;\n\
             worker_processes 1;\n\
             pid {d}/nginx.pid;\n\
             error_log /dev/stderr;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n\
             \x20 access_log off;\n\
             \x20 client_body_temp_path {d}/body; fastcgi_temp_path {d}/fastcgi;\n\
             \x20 proxy_temp_path {d}/proxy; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n\
             \x20 server {{\n\
             \x20   listen 127.0.0.1:{port};\n\
             \x20   root {docroot};\n\
             \x20   index index.php;\n\
             \x20   location / {{ try_files $uri /index.php$is_args$args; }}\n\
             \x20   location ~ \\.php$ {{\n\
             \x20     include /etc/nginx/fastcgi_params;\n\
             \x20     fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;\n\
             \x20     fastcgi_read_timeout 60s;\n\
             \x20     fastcgi_pass unix:{socket};\n\
             \x20   }}\n\
             \x20 }}\n\
             }}\n"
        );
        let modules = "/usr/lib/apache2/modules";
        let apache = format!(
            "ServerRoot {d}\n\
             ServerName localhost\n\
             Listen 127.0.0.1:{port}\n\
             PidFile {d}/httpd.pid\n\
             ErrorLog /dev/stderr\n\
             LogLevel warn\n\
             LoadModule mpm_event_module {modules}/mod_mpm_event.so\n\
             LoadModule authz_core_module {modules}/mod_authz_core.so\n\
             LoadModule dir_module {modules}/mod_dir.so\n\
             LoadModule proxy_module {modules}/mod_proxy.so\n\
             LoadModule proxy_fcgi_module {modules}/mod_proxy_fcgi.so\n\
             User www-data\n\
             Group www-data\n\
             Timeout 60\n\
             DocumentRoot {docroot}\n\
             DirectoryIndex index.php\n\
             <Directory {docroot}>\n\
             \x20 Require all granted\n\
             </Directory>\n\
             <FilesMatch \"\\.php$\">\n\
             \x20 SetHandler \"proxy:unix:{socket}|fcgi://localhost\"\n\
             </FilesMatch>\n"
        );
        let front = match frontend {
            Frontend::Nginx => format!("nginx -c {d}/nginx.conf"),
            Frontend::Apache => format!("apache2 -f {d}/apache.conf -DFOREGROUND"),
        };
        let run = format!(
            "#!/bin/bash\n\
             # php-fpm and {name} in the foreground of this shell, their logs on its stderr.\n\
             PATH=$PATH:/usr/sbin\n\
             fpm=$(command -v php-fpm8.4 php-fpm8.2 php-fpm | head -n 1)\n\
             rm -f {socket}\n\
             \"$fpm\" --nodaemonize --allow-to-run-as-root --fpm-config {d}/php-fpm.conf &\n\
             {front} &\n\
             wait -n\n\
             kill $(jobs -p) 2>/dev/null\n\
             wait\n",
            name = frontend.name()
        );
        for (name, contents) in [
            ("php-fpm.conf", fpm),
            ("nginx.conf", nginx),
            ("apache.conf", apache),
            ("run.sh", run),
        ] {
            std::fs::write(dir.join(name), contents).expect("writing the web stack's files");
        }
        WebStack {
            port,
            frontend,
            dir: dir.to_path_buf(),
        }
    }

    /// The script that runs the stack in the foreground.
    #[must_use]
    pub fn run_script(&self) -> PathBuf {
        self.dir.join("run.sh")
    }

    /// Waits until `path` answers through the stack with something other than a gateway
    /// error (php-fpm may be up after the front end).
    pub fn wait_ready(&self, path: &str) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let answer = http_get(self.port, path, None, Duration::from_secs(10));
            if let Ok(response) = &answer
                && response.status != 502
                && response.status != 503
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the {} stack did not answer: {answer:?}",
                    self.frontend.name()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
