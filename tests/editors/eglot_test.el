;;; eglot_test.el --- editors/emacs/hud-eglot.el driven by test_editors  -*- lexical-binding: t; -*-
;; emacs --batch -Q -l tests/editors/eglot_test.el, with Debian's emacs-nox 28 and elpa-eglot 1.9.
;; Environment as for nvim_plugin.lua (HUD_TEST_*; HUD_KEY holds the key). Every wait is bounded; the
;; script always ends Emacs (test_editors kills it after 60 s otherwise).

(defvar hud-test-out nil)
(defvar hud-test-errors [])
(defun hud-test-put (k v) (push (cons k v) hud-test-out))
(defun hud-test-env (k) (or (getenv k) (error "missing %s" k)))

;; Debian's elpa-* packages (site-start is not read with -Q).
(dolist (d (file-expand-wildcards "/usr/share/emacs/site-lisp/elpa/*"))
  (add-to-list 'load-path d))

(defun hud-test-wait (secs pred what)
  "Run the event loop until PRED holds, at most SECS seconds."
  (let ((end (+ (float-time) secs)))
    (while (and (not (funcall pred)) (< (float-time) end))
      (accept-process-output nil 0.05))
    (unless (funcall pred) (error "timed out waiting for %s" what))))

(defun hud-test-run ()
  (require 'eglot)
  (load (expand-file-name "emacs/hud-eglot.el" (hud-test-env "HUD_TEST_EDITORS")))
  (setq hud-eglot-command (list (hud-test-env "HUD_TEST_LSP") "--stdio")
        hud-eglot-url (hud-test-env "HUD_TEST_URL")
        hud-eglot-service "shop"
        eglot-sync-connect t
        eglot-connect-timeout 20)
  (find-file (hud-test-env "HUD_TEST_FILE"))
  (python-mode)
  (let ((server (hud-eglot)))
    (hud-test-put 'server_name (plist-get (eglot--server-info server) :name))
    (hud-test-put 'project_root (expand-file-name (project-root (eglot--project server))))
    (hud-test-wait 10 (lambda () (equal (plist-get hud-eglot-status :state) "ok")) "hud/status ok")
    (hud-test-put 'status (hud-eglot-status-string))
    (goto-char (point-min))
    (re-search-forward "^def \\(checkout\\)")
    (goto-char (match-beginning 1))
    ;; Hover, as eldoc shows it (eglot-hover-eldoc-function formats it with eglot--hover-info).
    (let* ((hover (jsonrpc-request server :textDocument/hover (eglot--TextDocumentPositionParams)))
           (contents (plist-get hover :contents)))
      (hud-test-put 'hover (eglot--hover-info contents (plist-get hover :range))))
    ;; Code actions on the function, and one run as eglot-code-actions runs it.
    (let* ((actions (jsonrpc-request server :textDocument/codeAction
                                     (list :textDocument (eglot--TextDocumentIdentifier)
                                           :range (list :start (eglot--pos-to-lsp-position)
                                                        :end (eglot--pos-to-lsp-position))
                                           :context (list :diagnostics []))))
           (callers (seq-find (lambda (a) (equal (plist-get a :command) "hud.showCallers")) actions)))
      (hud-test-put 'actions (vconcat (mapcar (lambda (a) (plist-get a :title)) actions)))
      (unless callers (error "no hud.showCallers action"))
      (hud-test-put 'callers (plist-get (eglot-execute-command server 'hud.showCallers (plist-get callers :arguments))
                                        :message)))
    (hud-test-put 'explain (plist-get (hud-eglot-explain) :message))
    (eglot-shutdown server)))

(condition-case err
    (hud-test-run)
  (t (setq hud-test-errors (vector (format "%S" err)))
     ;; hud-lsp's stderr, for the failure's message.
     (dolist (b (buffer-list))
       (when (string-match-p "stderr" (buffer-name b))
         (hud-test-put 'server_stderr (with-current-buffer b (buffer-string)))))))
(hud-test-put 'errors hud-test-errors)
(let ((coding-system-for-write 'utf-8))
  (with-temp-file (hud-test-env "HUD_TEST_OUT")
    (insert (json-encode hud-test-out))))
(kill-emacs 0)
