-- editors/neovim driven headless by test_editors (Neovim 0.7.2):
--   nvim --headless --clean -u NONE -c 'luafile tests/editors/nvim_plugin.lua'
-- Environment: HUD_TEST_EDITORS (editors/), HUD_TEST_LSP, HUD_TEST_URL, HUD_TEST_KEY, HUD_TEST_PROJECT,
-- HUD_TEST_OTHER, HUD_TEST_FILE, HUD_TEST_SCENARIO (plugin | panels), HUD_TEST_OUT.
-- Every wait is bounded; the script always ends Neovim (test_editors kills it after 60 s otherwise).
local out = { errors = {}, messages = {} }
local env = function(k) return os.getenv(k) or error('missing ' .. k) end
local function note(msg) table.insert(out.errors, msg) end

-- Every vim.notify, kept (hud-lsp's window/showMessage comes through it).
local notify = vim.notify
vim.notify = function(msg, level, o)
  table.insert(out.messages, msg)
  return notify(msg, level, o)
end

local function wait(ms, cond, what)
  if not vim.wait(ms, cond, 20) then error('timed out waiting for ' .. what) end
end

local function rel(path) return (path:gsub('^' .. vim.pesc(env('HUD_TEST_PROJECT')) .. '/', '')) end

local function goto_def(name)
  for i, text in ipairs(vim.api.nvim_buf_get_lines(0, 0, -1, false)) do
    if text:match('^def ' .. name) then return vim.api.nvim_win_set_cursor(0, { i, 5 }) end
  end
  error('no def ' .. name)
end

local function qf(title_key, items_key)
  local q = vim.fn.getqflist({ title = 1, items = 1 })
  out[title_key] = q.title
  out[items_key] = {}
  for _, it in ipairs(q.items) do
    local file = it.bufnr > 0 and rel(vim.api.nvim_buf_get_name(it.bufnr)) or ''
    table.insert(out[items_key], { text = it.text, file = file, lnum = it.lnum })
  end
end

-- The lines of the panel the command opens; a warning from the plugin (hud-lsp's error) ends the wait.
local function float_lines()
  local p = require('hud.panels')
  local seen = #out.messages
  wait(10000, function()
    return (p.last ~= nil and vim.api.nvim_win_is_valid(p.last.win)) or #out.messages > seen
  end, 'a floating window')
  if #out.messages > seen then error('no panel: ' .. out.messages[#out.messages]) end
  local cfg = vim.api.nvim_win_get_config(p.last.win)
  if cfg.relative == '' then error('the panel is not a floating window') end
  local lines = vim.api.nvim_buf_get_lines(p.last.buf, 0, -1, false)
  return lines
end

local function setup(with_key)
  -- Everything Neovim's LSP client does goes to its log: the key must not.
  vim.lsp.set_log_level('debug')
  vim.opt.runtimepath:prepend(env('HUD_TEST_EDITORS') .. '/neovim')
  vim.cmd('filetype on')
  vim.cmd('runtime plugin/hud.lua')
  require('hud').setup({
    url = env('HUD_TEST_URL'),
    service = 'shop',
    key = with_key and env('HUD_TEST_KEY') or nil,
    cmd = { env('HUD_TEST_LSP'), '--stdio' },
  })
  vim.cmd('edit ' .. vim.fn.fnameescape(env('HUD_TEST_FILE')))
  local hud = require('hud')
  wait(10000, function()
    local c = hud.client(0)
    return c ~= nil and c.initialized
  end, 'the hud client')
  wait(10000, function()
    local s = hud.status_of(0)
    return s ~= nil and s.state == 'ok'
  end, 'hud/status ok')
end

local function plugin()
  -- Lens requests made once hud/status said ok: Neovim 0.7 cannot get workspace/codeLens/refresh, so
  -- the plugin asks again when the status comes (no editing event happens meanwhile).
  local refresh, after_ok = vim.lsp.codelens.refresh, 0
  vim.lsp.codelens.refresh = function(...)
    local s = require('hud').status_of(0)
    if s and s.state == 'ok' then after_ok = after_ok + 1 end
    return refresh(...)
  end
  setup(true)
  local hud = require('hud')
  local buf = vim.api.nvim_get_current_buf()
  -- Lenses come without asking: the plugin refreshes them on hud/status.
  wait(10000, function() return #vim.lsp.codelens.get(buf) > 0 end, 'lenses')
  out.lenses = {}
  for _, l in ipairs(vim.lsp.codelens.get(buf)) do
    table.insert(out.lenses, { line = l.range.start.line, title = l.command and l.command.title or vim.NIL })
  end
  out.status = hud.status()
  wait(5000, function() return after_ok > 0 end, 'a lens request after hud/status')
  vim.lsp.codelens.refresh = refresh

  goto_def('checkout')
  vim.cmd('HudCallers')
  wait(10000, function() return #vim.fn.getqflist() > 0 end, 'the callers in the quickfix list')
  qf('callers_title', 'callers')
  vim.fn.setqflist({}, 'r', { title = '', items = {} })
  vim.cmd('cclose')
  vim.cmd('buffer ' .. buf)
  goto_def('checkout')
  vim.cmd('HudCallees')
  wait(10000, function() return #vim.fn.getqflist() > 0 end, 'the callees in the quickfix list')
  qf('callees_title', 'callees')
  vim.cmd('cclose')
  vim.cmd('buffer ' .. buf)

  vim.cmd('HudExplain')
  wait(10000, function() return hud.last_explain ~= nil end, 'hud.explain')
  out.explain = hud.last_explain
  wait(5000, function()
    for _, m in ipairs(out.messages) do
      if m:match('functions have figures') then return true end
    end
    return false
  end, "hud.explain's message")

  vim.cmd('checkhealth hud')
  out.health = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  vim.cmd('tabclose')

  -- One client per root.
  vim.cmd('edit ' .. vim.fn.fnameescape(env('HUD_TEST_PROJECT') .. '/app/shop/views.py'))
  wait(10000, function() return hud.client(0) ~= nil end, 'the client of views.py')
  out.clients_one_root = #hud.all_clients()
  vim.cmd('edit ' .. vim.fn.fnameescape(env('HUD_TEST_OTHER') .. '/x.py'))
  wait(10000, function() return hud.client(0) ~= nil end, 'the client of x.py')
  out.clients_two_roots = #hud.all_clients()
  out.roots = vim.tbl_map(function(c) return c.config.root_dir end, hud.all_clients())
end

local function panels()
  setup(false)
  local buf = vim.api.nvim_get_current_buf()
  goto_def('checkout')
  vim.cmd('HudHotPaths')
  out.hot_paths = float_lines()
  vim.cmd('close')
  require('hud.panels').last = nil
  vim.api.nvim_set_current_buf(buf)
  goto_def('checkout')
  vim.cmd('HudErrorFlows')
  out.error_flows = float_lines()
  -- <CR> on "raised in" opens apply_discounts's file at its name.
  for i, l in ipairs(out.error_flows) do
    if l:match('raised in') then vim.api.nvim_win_set_cursor(0, { i, 0 }) end
  end
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes('<CR>', true, false, true), 'x', false)
  out.jumped = rel(vim.api.nvim_buf_get_name(0)) == 'app/shop/pricing.py'
end

local scenarios = { plugin = plugin, panels = panels }
local ok, err = pcall(scenarios[env('HUD_TEST_SCENARIO')])
if not ok then note(tostring(err)) end
for _, c in ipairs(require('hud').all_clients()) do c.stop() end
vim.wait(3000, function() return #require('hud').all_clients() == 0 end, 20)
local f = io.open(env('HUD_TEST_OUT'), 'w')
f:write(vim.fn.json_encode(out))
f:close()
vim.cmd('qa!')
