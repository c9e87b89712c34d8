;;; hud-eglot.el --- hud-lsp (production figures) through eglot  -*- lexical-binding: t; -*-

;; Load it after eglot (Emacs 29+ has eglot built in; on Debian 12, apt install elpa-eglot):
;;
;;   (load "/path/to/hud/editors/emacs/hud-eglot.el")
;;   (setq hud-eglot-url "https://hud.example.com" hud-eglot-service "shop")
;;
;; then M-x hud-eglot in a Python, JavaScript, TypeScript, Go or Java buffer. eglot runs one server per
;; buffer: hud-lsp takes the place of the language's usual server in that project until M-x
;; eglot-shutdown. The API key comes from $HUD_KEY (or `hud-eglot-key'); it is handed to hud-lsp in
;; its environment and never written anywhere.

;;; Code:

(require 'eglot)
(require 'project)

(defgroup hud-eglot nil "hud-lsp through eglot." :group 'eglot)

(defcustom hud-eglot-command '("hud-lsp" "--stdio") "The hud-lsp command line." :type '(repeat string))
(defcustom hud-eglot-url nil "hud-server's base URL (nil: hud-lsp's configuration)." :type '(choice string (const nil)))
(defcustom hud-eglot-service nil "The service whose figures are shown (nil: hud-lsp's configuration)."
  :type '(choice string (const nil)))
(defcustom hud-eglot-env nil "The environment (nil: the key's)." :type '(choice string (const nil)))
(defcustom hud-eglot-window nil "The query window, e.g. \"1h\" (nil: hud-lsp's default)."
  :type '(choice string (const nil)))
(defcustom hud-eglot-key nil "API key (nil: $HUD_KEY)." :type '(choice string (const nil)))

(defvar hud-eglot-status nil "The last hud/status from hud-lsp, a plist (:state :message :url :service :modules).")

(defun hud-eglot--options (_server)
  "hud-lsp's initializationOptions from the hud-eglot-* variables."
  (let (opts)
    (dolist (kv `((:url . ,hud-eglot-url) (:service . ,hud-eglot-service) (:env . ,hud-eglot-env)
                  (:window . ,hud-eglot-window)))
      (when (cdr kv) (setq opts (plist-put opts (car kv) (cdr kv)))))
    (or opts eglot--{})))

(defun hud-eglot-contact ()
  "The eglot contact for hud-lsp."
  (append hud-eglot-command (list :initializationOptions #'hud-eglot--options)))

(defun hud-eglot-language-id ()
  "The LSP language id of the current buffer."
  (cond ((derived-mode-p 'python-mode) "python")
        ((derived-mode-p 'typescript-mode) "typescript")
        ((derived-mode-p 'js-mode) "javascript")
        ((derived-mode-p 'go-mode) "go")
        ((derived-mode-p 'java-mode) "java")
        (t (string-remove-suffix "-mode" (symbol-name major-mode)))))

;;;###autoload
(defun hud-eglot ()
  "Start hud-lsp for the current buffer's project through eglot; return the server."
  (interactive)
  (let* ((key (or hud-eglot-key (getenv "HUD_KEY")))
         (process-environment (if key (cons (concat "HUD_KEY=" key) process-environment) process-environment))
         (project (or (project-current) (cons 'transient default-directory))))
    ;; eglot 1.9 wants the managed modes as a list (later versions take both).
    (eglot (list major-mode) project 'eglot-lsp-server (hud-eglot-contact) (hud-eglot-language-id))))

(cl-defmethod eglot-handle-notification
  (_server (_method (eql hud/status)) &rest params &key state &allow-other-keys)
  "Keep hud-lsp's connection state in `hud-eglot-status'."
  (setq hud-eglot-status params)
  (force-mode-line-update t)
  state)

(defun hud-eglot-status-string ()
  "For a mode line: \"hud ok (2 modules)\", \"hud unreachable\", \"\" before any status."
  (let ((state (plist-get hud-eglot-status :state)))
    (cond ((null state) "")
          ((equal state "ok") (format "hud ok (%s modules)" (plist-get hud-eglot-status :modules)))
          (t (concat "hud " state)))))

(defun hud-eglot--command (command &rest args)
  "Run hud-lsp's COMMAND with ARGS on the current server; return its answer."
  (eglot-execute-command (eglot--current-server-or-lose) command (vconcat args)))

(defun hud-eglot--uri ()
  "The current file's URI, as eglot sends it."
  (funcall (if (fboundp 'eglot-path-to-uri) 'eglot-path-to-uri 'eglot--path-to-uri) (buffer-file-name)))

(defun hud-eglot-explain ()
  "Why the current file has these figures, or none (hud.explain); hud-lsp also shows the message."
  (interactive)
  (let ((res (hud-eglot--command 'hud.explain (hud-eglot--uri))))
    (message "%s" (plist-get res :message))
    res))

(defun hud-eglot-refresh ()
  "Ask hud-server for the figures again now (hud.refresh)."
  (interactive)
  (hud-eglot--command 'hud.refresh))

(provide 'hud-eglot)
;;; hud-eglot.el ends here
