-- hud for Neovim: starts hud-lsp for the buffers of the languages it indexes (one client per root: the
-- git root, else the working directory), keeps the lenses fresh, and exposes hud/status for a
-- statusline. Works on Neovim 0.7.2 (vim.lsp.start_client) and uses newer APIs where they exist.
local M = {}

M.name = 'hud'

local defaults = {
  cmd = { 'hud-lsp', '--stdio' },
  url = nil, -- hud-server's base URL (hud-lsp falls back to its configuration)
  service = nil,
  env = nil,
  key = nil, -- API key; default: $HUD_KEY. Set as $HUD_KEY in Neovim's environment, which hud-lsp inherits.
  window = nil, -- '15m', '1h', ...
  refresh_seconds = nil,
  filetypes = { 'python', 'javascript', 'javascriptreact', 'typescript', 'typescriptreact', 'go', 'java' },
  codelens = true,
  inlay_hints = true, -- Neovim 0.10+
  root_dir = nil, -- function(bufnr) -> directory; default: git root, else the working directory
}

M.config = nil
local by_root = {} -- root -> client id (Neovim without vim.lsp.start)
local statuses = {} -- client id -> last hud/status params
M.last_buf = nil -- the last buffer a hud client attached to (for :checkhealth hud)

local function has(path)
  local v = vim
  for part in path:gmatch('[^.]+') do
    if type(v) ~= 'table' then return false end
    v = v[part]
  end
  return v ~= nil
end
M.has = has

-- The nearest directory above the buffer's file holding .git (a directory or a worktree's file).
function M.root_of(bufnr)
  if M.config and M.config.root_dir then return M.config.root_dir(bufnr) end
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name ~= '' then
    local dir = vim.fn.fnamemodify(name, ':p:h')
    while dir and dir ~= '' do
      if vim.loop.fs_stat(dir .. '/.git') then return dir end
      local parent = vim.fn.fnamemodify(dir, ':h')
      if parent == dir then break end
      dir = parent
    end
  end
  return vim.fn.getcwd()
end

local function init_options(c)
  return {
    url = c.url,
    service = c.service,
    env = c.env,
    window = c.window,
    refreshSeconds = c.refresh_seconds,
  }
end

-- Clients for the given buffer (0: current) that are hud's.
function M.clients(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  if vim.lsp.get_clients then return vim.lsp.get_clients({ bufnr = bufnr, name = M.name }) end -- 0.10+
  local out = {}
  for _, c in pairs(vim.lsp.buf_get_clients(bufnr)) do
    if c.name == M.name then table.insert(out, c) end
  end
  return out
end

-- Every running hud client.
function M.all_clients()
  if vim.lsp.get_clients then return vim.lsp.get_clients({ name = M.name }) end
  local out = {}
  for _, c in pairs(vim.lsp.get_active_clients()) do
    if c.name == M.name then table.insert(out, c) end
  end
  return out
end

function M.client(bufnr) return M.clients(bufnr)[1] end

-- client:request from 0.11 on (client.request is deprecated there), client.request before.
function M.request(client, method, params, handler, bufnr)
  if vim.fn.has('nvim-0.11') == 1 then return client:request(method, params, handler, bufnr) end
  return client.request(method, params, handler, bufnr)
end

local function refresh_lenses(bufnr)
  if not M.config.codelens or has('lsp.codelens.enable') then return end
  if bufnr ~= vim.api.nvim_get_current_buf() then return end
  if #M.clients(bufnr) == 0 then return end
  -- 0.7 refreshes the current buffer; 0.10+ takes the buffer.
  pcall(vim.lsp.codelens.refresh, { bufnr = bufnr })
end
M.refresh_lenses = refresh_lenses

-- hud/status: kept per client; refreshes the lenses of the current buffer when Neovim has no handler
-- for workspace/codeLens/refresh (before 0.8 the server cannot ask for it).
local function on_status(_, result, ctx)
  if type(result) ~= 'table' then return end
  statuses[ctx.client_id] = result
  if not vim.lsp.handlers['workspace/codeLens/refresh'] then
    vim.schedule(function()
      local buf = vim.api.nvim_get_current_buf()
      for _, c in ipairs(M.clients(buf)) do
        if c.id == ctx.client_id then refresh_lenses(buf) end
      end
    end)
  end
  pcall(vim.cmd, 'redrawstatus')
end

local levels = { [1] = vim.log.levels.ERROR, [2] = vim.log.levels.WARN, [3] = vim.log.levels.INFO, [4] = vim.log.levels.DEBUG }

-- window/showMessage through vim.notify (kept in :messages; hud-lsp's messages start with "hud: ").
local function on_show_message(_, result)
  if type(result) == 'table' and result.message then
    vim.schedule(function() vim.notify(result.message, levels[result.type] or vim.log.levels.INFO) end)
  end
  return vim.NIL
end

local function on_attach(client, bufnr)
  M.last_buf = bufnr
  local group = vim.api.nvim_create_augroup('hud_buf_' .. bufnr, { clear = true })
  if M.config.codelens then
    if has('lsp.codelens.enable') then
      pcall(vim.lsp.codelens.enable, true, { bufnr = bufnr }) -- 0.12+
    else
      vim.api.nvim_create_autocmd({ 'BufEnter', 'InsertLeave', 'BufWritePost' }, {
        group = group,
        buffer = bufnr,
        callback = function() refresh_lenses(bufnr) end,
      })
      refresh_lenses(bufnr)
    end
  end
  if M.config.inlay_hints and has('lsp.inlay_hint.enable') then
    pcall(vim.lsp.inlay_hint.enable, true, { bufnr = bufnr }) -- 0.10+
  end
end

-- The lens's command is "" with the function id: running it (vim.lsp.codelens.run) shows the detail.
local function show_detail_command(command, ctx)
  local id = command.arguments and command.arguments[1]
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if id and client then
    M.request(client, 'workspace/executeCommand', { command = 'hud.showDetail', arguments = { id } }, function() end, ctx.bufnr)
  end
end

local function client_config(root)
  local c = M.config
  return {
    name = M.name,
    cmd = c.cmd,
    root_dir = root,
    workspace_folders = root and { { uri = vim.uri_from_fname(root), name = vim.fn.fnamemodify(root, ':t') } } or nil,
    init_options = init_options(c),
    handlers = { ['hud/status'] = on_status, ['window/showMessage'] = on_show_message },
    commands = { [''] = show_detail_command },
    on_attach = on_attach,
    on_exit = function(_, _, id)
      statuses[id] = nil
      for r, cid in pairs(by_root) do
        if cid == id then by_root[r] = nil end
      end
    end,
  }
end

-- Starts (or reuses) the client of the buffer's root and attaches the buffer.
function M.attach(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  if not M.config or vim.bo[bufnr].buftype ~= '' then return nil end
  local root = M.root_of(bufnr)
  if vim.lsp.start then -- 0.8+: reuses the client with the same name and root
    return vim.lsp.start(client_config(root), { bufnr = bufnr })
  end
  local id = by_root[root]
  if not id or not vim.lsp.get_client_by_id(id) then
    id = vim.lsp.start_client(client_config(root))
    if not id then return nil end
    by_root[root] = id
  end
  vim.lsp.buf_attach_client(bufnr, id)
  return id
end

function M.setup(opts)
  M.config = vim.tbl_deep_extend('force', {}, defaults, opts or {})
  -- The key reaches hud-lsp through the environment it inherits: not in cmd_env or init_options,
  -- which Neovim's LSP log records (info and debug levels), and not kept in the configuration.
  if M.config.key and M.config.key ~= '' then vim.env.HUD_KEY = M.config.key end
  M.config.key = nil
  M.config.has_key = (os.getenv('HUD_KEY') or '') ~= ''
  if type(M.config.cmd) == 'string' then M.config.cmd = { M.config.cmd, '--stdio' } end
  local group = vim.api.nvim_create_augroup('hud', { clear = true })
  if has('lsp.config') and has('lsp.enable') then
    -- 0.11+: the built-in configuration and activation (root chosen as above).
    local cfg = client_config(nil)
    cfg.root_dir = function(bufnr, on_dir) on_dir(M.root_of(bufnr)) end
    cfg.workspace_folders = nil
    cfg.filetypes = M.config.filetypes
    vim.lsp.config(M.name, cfg)
    vim.lsp.enable(M.name)
    return
  end
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = M.config.filetypes,
    callback = function(ev) M.attach(ev.buf) end,
  })
  -- Buffers already open when setup runs.
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(b) and vim.tbl_contains(M.config.filetypes, vim.bo[b].filetype) then M.attach(b) end
  end
end

function M.status_of_client(id) return statuses[id] end

-- The last hud/status of the buffer's client (nil when none).
function M.status_of(bufnr)
  local c = M.client(bufnr)
  return c and statuses[c.id] or nil
end

-- For a statusline: "hud ok (2 modules)", "hud unreachable", "" when the buffer has no hud client.
function M.status()
  local c = M.client(0)
  if not c then return '' end
  local s = statuses[c.id]
  if not s then return 'hud …' end
  if s.state == 'ok' then
    return string.format('hud ok (%d module%s)', s.modules or 0, s.modules == 1 and '' or 's')
  end
  return 'hud ' .. tostring(s.state)
end

return M
