-- hud's user commands; nothing starts before require('hud').setup{...}.
if vim.g.loaded_hud then return end
vim.g.loaded_hud = true

local cmd = vim.api.nvim_create_user_command
cmd('HudCallers', function() require('hud.commands').callers() end, { desc = 'hud: production callers (quickfix)' })
cmd('HudCallees', function() require('hud.commands').callees() end, { desc = 'hud: production callees (quickfix)' })
cmd('HudExplain', function() require('hud.commands').explain() end, { desc = 'hud: why these figures (or none)' })
cmd('HudRefresh', function() require('hud.commands').refresh() end, { desc = 'hud: ask hud-server again now' })
cmd('HudHotPaths', function(a) require('hud.panels').hot_paths(a.args) end,
  { nargs = '?', complete = function() return { 'time', 'calls' } end, desc = 'hud: hot paths below the function' })
cmd('HudErrorFlows', function() require('hud.panels').error_flows() end, { desc = 'hud: exceptions through the function' })
