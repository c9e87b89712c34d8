-- :checkhealth hud — the binary runs, hud-server is reachable, the key is accepted, the service is
-- mapped for the current file (from hud-lsp's hud/status and hud.explain).
local M = {}

-- vim.health.start/ok/... (0.10+), vim.health.report_* (0.8, 0.9), require('health').report_* (0.7).
local function reporter()
  local h = vim.health or require('health')
  local function pick(new, old) return h[new] or h[old] end
  return {
    start = pick('start', 'report_start'),
    ok = pick('ok', 'report_ok'),
    info = pick('info', 'report_info'),
    warn = pick('warn', 'report_warn'),
    error = pick('error', 'report_error'),
  }
end

local fixes = {
  unreachable = 'check `url` (hud-server must be running and reachable from here)',
  unauthorized = 'check the API key (setup{key=...} or $HUD_KEY): it needs the read role',
  unconfigured = 'set `service` in setup{...} (or in the [lsp] section of the hud configuration)',
  error = 'see hud-server\'s answer in :messages',
}

-- The answer of one request, waiting at most MS milliseconds.
local function request_sync(client, method, params, bufnr, ms)
  local hud = require('hud')
  local done, res, err = false, nil, nil
  hud.request(client, method, params, function(e, r) done, err, res = true, e, r end, bufnr)
  vim.wait(ms, function() return done end, 20)
  if not done then return nil, { message = 'no answer within ' .. ms .. ' ms' } end
  return res, err
end

function M.check()
  local r = reporter()
  local hud = require('hud')
  r.start('hud: setup')
  if not hud.config then
    r.error('require("hud").setup{...} was not called')
    return
  end
  local c = hud.config
  r.info(string.format('url %s, service %s, env %s, key %s', c.url or '(hud configuration)',
    c.service or '(hud configuration)', c.env or '(the key\'s)', c.has_key and 'set' or 'not set ($HUD_KEY)'))

  r.start('hud: hud-lsp')
  local bin = c.cmd[1]
  if vim.fn.executable(bin) ~= 1 then
    r.error(bin .. ' not found (setup{cmd=...} or put hud-lsp on PATH)')
    return
  end
  local out = vim.fn.system({ bin, '--version' })
  if vim.v.shell_error ~= 0 then
    r.error(string.format('%s --version failed: %s', bin, out))
    return
  end
  r.ok(vim.fn.exepath(bin) .. ': ' .. vim.trim(out))

  r.start('hud: backend')
  local clients = hud.all_clients()
  if #clients == 0 then
    r.warn('no hud-lsp client running: open a Python, JavaScript, TypeScript, Go or Java file')
    return
  end
  for _, client in ipairs(clients) do
    local root = client.config.root_dir or '?'
    local s
    vim.wait(5000, function()
      s = hud.status_of_client(client.id)
      return s ~= nil and s.state ~= 'connecting'
    end, 20)
    if not s then
      r.warn(root .. ': no hud/status from hud-lsp yet')
    elseif s.state == 'ok' then
      r.ok(string.format('%s: hud-server reachable at %s, key accepted, service %s (%d files mapped)', root,
        s.url or '?', s.service or '?', s.modules or 0))
    else
      r.error(string.format('%s: %s%s', root, s.state, (s.message and s.message ~= '') and (': ' .. s.message) or ''),
        { fixes[s.state] or 'see :messages' })
    end
  end

  r.start('hud: current file')
  local buf = hud.last_buf
  if not buf or not vim.api.nvim_buf_is_valid(buf) then
    r.info('no file attached yet')
    return
  end
  local client = hud.client(buf)
  if not client then
    r.info(vim.api.nvim_buf_get_name(buf) .. ': no hud client')
    return
  end
  local res, err = request_sync(client, 'workspace/executeCommand',
    { command = 'hud.explain', arguments = { vim.uri_from_bufnr(buf) } }, buf, 10000)
  local name = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(buf), ':~:.')
  if err then
    r.error(name .. ': hud.explain: ' .. (err.message or 'error'))
  elseif type(res) == 'table' and res.reason == 'ok' then
    r.ok(name .. ': ' .. (res.message or ''))
  elseif type(res) == 'table' then
    r.warn(string.format('%s: %s (%s)', name, res.message or '', res.reason or '?'), { fixes[res.reason] })
  end
end

return M
